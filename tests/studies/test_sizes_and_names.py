"""Issue 21, beyond the one-line catalogue (test_bad_input.py): a size past its maximum never
reaches the store, a store that holds one still reads, a run that ran out of memory is retried
rather than stored, the plan line estimates memory, and crafted names reach the report and the
exports as text."""

from __future__ import annotations

import csv
import dataclasses
import math
import re
import sqlite3
from datetime import datetime

import pytest
import torch
from test_store import make_record  # a hand-made run record

from studies.cli import main
from studies.experiment import GridSpec, RunConfig, run_grid
from studies.experiment.memory import largest_run, model_size, run_bytes
from studies.experiment.models import build_model
from studies.experiment.recording import out_of_memory
from studies.store import Store

# what torch's CPU allocator raises when an allocation fails
ALLOCATOR = (
    "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you "
    "tried to allocate 8000000000 bytes"
)
TINY = ["--variants", "plain_mlp", "--datasets", "moons", "--depths", "1", "--seeds", "1"]


def test_a_store_holding_an_integer_past_64_bits_still_reads(tmp_path, capsys):
    """Written before sizes had a maximum: every command on the store failed (OverflowError)."""
    path = tmp_path / "r.db"
    with Store(path) as store:
        store.write_run(make_record("huge", params={"hidden": 10**23, "lr": 0.1}))
        store.write_run(make_record("small", params={"hidden": 8, "lr": 0.1}))
        store.write_run(make_record("past-floats", params={"hidden": 10**400, "lr": 0.1}))
        frame = store.runs_frame()
    assert sorted(frame["hp_hidden"].tolist()) == [8, 1e23, math.inf]  # read as floats
    argv = ["grid", *TINY, "--epochs", "1", "--no-progress", "--store", str(path)]
    assert main(argv) == 0, capsys.readouterr().err  # another experiment on the same store
    export = ["export", "--store", str(path), "--out", str(tmp_path / "e")]  # Parquet: int64
    assert main(export) == 0, capsys.readouterr().err


def test_a_run_that_runs_out_of_memory_is_not_stored_and_runs_again(tmp_path, monkeypatch):
    import studies.experiment.training as training

    runs = GridSpec("oom", ("plain_mlp",), ("moons",), seeds=2, depths=(1,), epochs=1).expand()
    real_fit = training.fit

    def fit(config, *args, **kwargs):
        if config.seed == 1:
            raise RuntimeError(ALLOCATOR)
        return real_fit(config, *args, **kwargs)

    with Store(tmp_path / "r.db") as store:
        monkeypatch.setattr(training, "fit", fit)
        summary = run_grid(runs, store, progress=False, seed_batch=1)
        assert len(store.completed_ids()) == 1 and summary.counts["failed"] == 0
        assert len(summary.retry) == 1 and "ran out of memory" in summary.lines()[-1]
        monkeypatch.setattr(training, "fit", real_fit)
        again = run_grid(runs, store, progress=False, seed_batch=1)  # resume: retried, stored
        assert again.skipped == 1 and again.counts["ok"] == 1 and not again.retry
        assert len(store.completed_ids()) == 2


@pytest.mark.parametrize(
    "exc, expected",
    [
        (MemoryError(), True),
        (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError(ALLOCATOR), True),
        (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
        (ValueError("out of memory"), False),
    ],
)
def test_what_counts_as_out_of_memory(exc, expected):
    assert out_of_memory(exc) is expected


@pytest.mark.parametrize("variant", ["full", "plain_mlp", "no_quartic"])
def test_the_memory_estimate_counts_the_real_model_and_grows_with_its_size(variant):
    small, big = (RunConfig(variant, "mnist", 0, 2, 1, params={"hidden": h}) for h in (64, 1024))
    model = build_model(big, 784, 10)  # the real one: the meta-device count must match it
    real = sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers())
    assert model_size(big) == real
    assert run_bytes(big) >= 4 * 4 * real[0]  # four float32 copies of every parameter at least
    assert run_bytes(small) < run_bytes(big)
    run, size = largest_run([small, big, small])
    assert run is big and size == run_bytes(big)


def test_the_plan_line_shows_the_largest_runs_memory(tmp_path, capsys):
    argv = ["grid", *TINY, "--epochs", "1", "--no-progress", "--store", str(tmp_path / "r.db")]
    assert main([*argv, "--set", "hidden=512"]) == 0
    plan = capsys.readouterr().out.splitlines()[0]
    assert "largest model ≈ " in plan and "of memory per run (plain_mlp[" in plan


def test_seed_batch_0_through_the_api_leaves_the_store_byte_identical(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        store.write_run(make_record())
    before = path.read_bytes()
    runs = GridSpec("g", ("plain_mlp",), ("moons",), seeds=1, depths=(1,), epochs=1).expand()
    with Store(path) as store, pytest.raises(ValueError, match="population"):
        run_grid(runs, store, progress=False, seed_batch=0, experiment="e")
    assert path.read_bytes() == before


# ---- crafted names: text in the report and the exports ------------------------------------

FORMULA = '=HYPERLINK("http://evil","x")'
MARKUP = "<img src=x onerror=alert(1)>[y](javascript:alert(1))"


def _crafted_store(path):
    with Store(path) as store:
        for i, (variant, dataset) in enumerate([(FORMULA, "moons"), ("plain_mlp", MARKUP)]):
            record = make_record(f"run-{i}", error=f"-{i}+cmd|' /C calc'!A0")
            store.write_run(
                dataclasses.replace(record, variant=variant, dataset=dataset, n_classes=2,
                                    chance_accuracy=0.5, collapsed=False, data_seed=0)
            )  # fmt: skip
    now = datetime(2026, 1, 1).isoformat(" ")
    with sqlite3.connect(path) as conn:  # written by someone else: no name check on the way in
        name = "crafted\x00<script>alert(1)</script>"
        conn.execute("INSERT INTO experiments (name, created_at, updated_at) VALUES (?, ?, ?)",
                     (name, now, now))  # fmt: skip
        for i in range(2):
            conn.execute("INSERT INTO experiment_runs VALUES (?, ?)", (name, f"run-{i}"))
    conn.close()


def _formula_cells(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    return [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or c.startswith("-") and
            not c.lstrip("-").replace(".", "", 1).replace("e", "", 1).isdigit()]  # fmt: skip


def test_crafted_names_reach_the_report_and_the_csv_export_as_text(tmp_path, capsys):
    store = tmp_path / "crafted.db"
    _crafted_store(store)
    out = tmp_path / "report"
    assert main(["report", "--store", str(store), "--out", str(out)]) == 0, capsys.readouterr()
    page = (out / "index.html").read_bytes()
    assert b"\x00" not in page and b"<script>alert" not in page and b"<img src=x" not in page
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "\x00" not in markdown and "<img" not in markdown.replace("\\<img", "")
    assert not re.search(r"(?<!\\)\]\(javascript|(?<!\\)<script>", markdown)
    tables = sorted((out / "tables").glob("*.csv"))
    assert tables and not [(t.name, _formula_cells(t)) for t in tables if _formula_cells(t)]
    export = tmp_path / "export"
    assert main(["export", "--store", str(store), "--format", "csv", "--out", str(export)]) == 0
    runs = export / "runs.csv"
    with open(runs, newline="", encoding="utf-8") as handle:
        variants = [row["variant"] for row in csv.DictReader(handle)]
    assert not _formula_cells(runs) and f"'{FORMULA}" in variants
