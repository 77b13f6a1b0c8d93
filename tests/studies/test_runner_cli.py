"""The grid runner and the CLI: resume after kill -9, workers, Dask, bad input, export."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from studies.cli import main
from studies.experiment.grid import GridSpec
from studies.experiment.runner import run_grid
from studies.store.store import Store

TINY = GridSpec(
    "tiny", ("full", "plain_mlp", "logreg"), ("moons",), seeds=2, depths=(1, 2), epochs=2
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def test_grid_stores_every_run_once_and_resumes(tmp_path):
    runs = TINY.expand()
    with Store(tmp_path / "r.db") as store:
        first = run_grid(runs, store, progress=False)
        assert first.executed == len(runs) == 10 and first.counts["ok"] == 10
        again = run_grid(runs, store, progress=False)
        assert again.skipped == len(runs) and again.executed == 0
        frame = store.runs_frame()
    assert len(frame) == 10 and frame["run_id"].is_unique
    assert set(frame["variant"]) == {"full", "plain_mlp", "logreg"}
    assert len(store_points := Store(tmp_path / "r.db").points_frame()) > 0 and set(
        store_points["dataset"]
    ) == {"moons"}


@pytest.mark.slow
def test_two_workers_give_the_same_results_as_one(tmp_path):
    runs = GridSpec("w", ("full", "sgd"), ("moons",), seeds=2, depths=(1,), epochs=2).expand()
    frames = []
    for workers in (1, 2):
        with Store(tmp_path / f"w{workers}.db") as store:
            run_grid(runs, store, workers=workers, progress=False)
            frames.append(store.runs_frame().sort_values("run_id").reset_index(drop=True))
    a, b = frames
    assert list(a["run_id"]) == list(b["run_id"])
    pd.testing.assert_series_equal(a["val_accuracy"], b["val_accuracy"], atol=0.02)


@pytest.mark.slow
def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    runs = GridSpec("d", ("full", "logreg"), ("moons",), seeds=2, depths=(1,), epochs=1).expand()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with Store(tmp_path / "d.db") as store:
            summary = run_grid(runs, store, scheduler=cluster.scheduler_address, progress=False)
            assert summary.counts["ok"] == len(runs) == 4
            assert len(store.runs_frame()) == 4


def _landau(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "studies.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_minus_nine_then_resume_loses_nothing_and_duplicates_nothing(tmp_path):
    grid = tmp_path / "k.toml"
    grid.write_text(
        'variants = ["full", "plain_mlp"]\ndatasets = ["moons"]\nseeds = 6\n'
        "depths = [2]\nepochs = 3\n"
    )
    db = tmp_path / "k.db"
    proc = _landau("grid", str(grid), "--store", str(db), "--no-progress")
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            with Store(db) as store:
                stored = len(store.completed_ids())
            if stored >= 2:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the grid finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(db) as store:
        after_kill = store.completed_ids()
    assert 2 <= len(after_kill) < 12
    done = _landau("grid", str(grid), "--store", str(db), "--no-progress")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert f"{len(after_kill)} already stored" in out
    with Store(db) as store:
        frame = store.runs_frame()
        epochs = store.epochs_frame()
    assert len(frame) == 12 and frame["run_id"].is_unique and after_kill <= set(frame["run_id"])
    assert (
        len(epochs) == frame["epochs_run"].sum()
        and not epochs.duplicated(["run_id", "epoch"]).any()
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["grid", "--variants", "ful"], "unknown variant 'ful'; known: full"),
        (["grid", "--datasets", "mnsit"], "unknown dataset 'mnsit'; known: moons"),
        (["grid", "quik"], "unknown grid 'quik'; known: claims, convergence, paper, quick, real, "),
        (["grid", "--seeds", "0"], "`seeds >= 1` must hold, but got seeds=0"),
        (["grid", "--epochs", "0"], "`1 <= epochs <= 10000` must hold, but got epochs=0"),
        (["grid", "--depths", "3"], "unknown depth 3; known: 1, 2"),
        (["grid", "--workers", "0"], "`1 <= workers <= 256` must hold"),
        (["grid", "--datasets", "mnist", "--data-dir", "{tmp}/nothing"], "MNIST"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_the_store_alone(
    tmp_path, capsys, args, message, monkeypatch
):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # no download fallback
    db = tmp_path / "r.db"
    with Store(db) as store:
        run_grid(
            GridSpec("s", ("logreg",), ("moons",), seeds=1, depths=(1,), epochs=1).expand(),
            store,
            progress=False,
        )
    before = _sha(db)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main([*args, "--store", str(db), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("landau grid: error: ") and message in err
    assert "Traceback" not in err
    assert _sha(db) == before


def test_malformed_toml_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("variants = [\n")
    assert main(["grid", str(bad), "--store", str(tmp_path / "r.db")]) == 2
    assert "malformed TOML" in capsys.readouterr().err
    assert not (tmp_path / "r.db").exists()


def test_foreign_database_is_refused_untouched(tmp_path, capsys):
    import sqlite3

    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table customers (id integer)")
    before = _sha(db)
    assert (
        main(
            [
                "grid",
                "--variants",
                "logreg",
                "--datasets",
                "moons",
                "--seeds",
                "1",
                "--store",
                str(db),
            ]
        )
        == 2
    )
    assert "not a landau results store" in capsys.readouterr().err
    assert _sha(db) == before


def test_list_and_export(tmp_path, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("full", "no_quartic", "plain_mlp", "logreg", "moons", "mnist1d", "quick", "paper"):
        assert name in out
    db = tmp_path / "r.db"
    assert (
        main(
            [
                "grid",
                "--variants",
                "full,logreg",
                "--datasets",
                "moons",
                "--seeds",
                "1",
                "--depths",
                "1",
                "--epochs",
                "1",
                "--store",
                str(db),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "2 executed (2 ok, 0 diverged, 0 failed)" in capsys.readouterr().out
    for fmt in ("csv", "parquet"):
        out_dir = tmp_path / fmt
        assert main(["export", "--store", str(db), "--format", fmt, "--out", str(out_dir)]) == 0
        out_file = out_dir / f"runs.{fmt}"
        frame = pd.read_csv(out_file) if fmt == "csv" else pd.read_parquet(out_file)
        for col in (
            "run_id",
            "variant",
            "dataset",
            "seed",
            "depth",
            "status",
            "val_accuracy",
            "test_accuracy",
            "seconds",
            "hp_lr",
            "hp_C",
        ):
            assert col in frame.columns
    assert main(["export", "--store", str(db), "--format", "xlsx"]) == 2


def test_demo_prints_both_accuracies(capsys):
    assert main(["demo", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "full" in out and "plain_mlp" in out and "test accuracy" in out
