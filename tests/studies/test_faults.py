"""Faults beyond bad input (docs/faults.md): a damaged SQLite file, an export or a report
interrupted by a signal, a tune interrupted in a trial. Each ends in one line and the stated
exit status, and leaves nothing half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studies.cli import main

GRID = ["--variants", "logreg", "--datasets", "moons", "--seeds", "2", "--depths", "1"]
GRID += ["--epochs", "1", "--no-progress"]


def _sha(path: Path) -> bytes:
    import hashlib

    return hashlib.sha256(path.read_bytes()).digest()


@pytest.fixture
def stored(tmp_path) -> Path:
    """A small store with runs (its WAL checkpointed into the file)."""
    db = tmp_path / "r.db"
    assert main(["grid", *GRID, "--store", str(db)]) == 0
    return db


def _corrupt(db: Path, table: str) -> None:
    """Garbage over the second half of ``table``'s root page: PRAGMA quick_check fails."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        query = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        (page,) = conn.execute(query, (table,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with db.open("r+b") as f:
        f.seek((page - 1) * size + size // 2)
        f.write(b"\xa5" * (size // 2))
    with sqlite3.connect(db) as conn:
        try:
            assert conn.execute("PRAGMA quick_check").fetchone() != ("ok",)
        except sqlite3.DatabaseError:
            pass  # malformed: as damaged


@pytest.mark.parametrize(
    "command",
    [
        ["grid", *GRID, "--seeds", "3"],
        [
            "tune",
            "--variant",
            "logreg",
            "--dataset",
            "moons",
            "--trials",
            "1",
            "--epochs",
            "1",
            "--no-progress",
        ],  # fmt: skip
        ["export", "--format", "csv", "--out", "{tmp}/export"],
        ["report", "--out", "{tmp}/report"],
    ],
    ids=["grid", "tune", "export", "report"],
)
def test_a_damaged_store_is_refused_with_one_line_and_left_as_it_is(
    stored, tmp_path, capsys, command
):
    _corrupt(stored, "epochs")
    before = _sha(stored)
    capsys.readouterr()
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert main([*args, "--store", str(stored)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged" in err[0] and "quick_check" in err[0], err
    assert _sha(stored) == before


# ---- export: all files or none, whatever signal ends it -----------------------------------

_EXPORT = ["export", "--format", "csv"]
_KILLED_EXPORT = """
import os, signal, sys
import studies.cli.export as export

real = export.write_frame
def dying(frame, path, format):
    if path.name.startswith("meshes"):  # half of it written, then killed
        path.write_text(frame.to_csv(index=False)[: 40])
        os.kill(os.getpid(), signal.SIGKILL)
    real(frame, path, format)
export.write_frame = dying
from studies.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _exported(out: Path) -> dict[str, int]:
    import pandas as pd

    return {p.name: len(pd.read_csv(p)) for p in sorted(out.glob("*.csv"))}


def test_an_export_killed_by_sigterm_leaves_no_file_and_runs_again(stored, tmp_path, capsys):
    import os
    import signal

    import studies.cli.export as export

    out = tmp_path / "export"
    real, calls = export.write_frame, []

    def terminated(frame, path, format):
        calls.append(path.name)
        real(frame, path, format)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    export.write_frame = terminated
    try:
        code = main([*_EXPORT, "--store", str(stored), "--out", str(out)])
    finally:
        export.write_frame = real
    assert code == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "terminated (SIGTERM)" in err[0]
    assert list(out.iterdir()) == []  # nothing half-written, no hidden folder left
    assert main([*_EXPORT, "--store", str(stored), "--out", str(out)]) == 0  # no --force
    assert len(_exported(out)) == 10


@pytest.mark.slow
def test_an_export_killed_by_sigkill_leaves_no_truncated_file_and_runs_again(stored, tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "export"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-c", _KILLED_EXPORT, *_EXPORT, "--store", str(stored)]
    killed = subprocess.run([*command, "--out", str(out)], env=env, capture_output=True)
    assert killed.returncode == -9
    assert list(out.glob("*.csv")) == []
    assert main([*_EXPORT, "--store", str(stored), "--out", str(out)]) == 0  # no --force
    assert not list(out.glob(".*"))  # the killed export's hidden folder is cleared
    again = tmp_path / "again"
    assert main([*_EXPORT, "--store", str(stored), "--out", str(again)]) == 0
    assert _exported(out) == _exported(again) and len(_exported(out)) == 10


# ---- report: a signal always ends it with its exit status and one line --------------------


def _signalled_in_a_figure(kind: str):
    """An accuracy figure whose library turns the SIGTERM it gets into its own error
    (``wrapped``) or swallows it (``swallowed``) and draws on."""
    import os
    import signal
    import time

    import reports.figures as F

    real = F.accuracy_figure

    def draw(*args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs here
        except BaseException as exc:
            if kind == "wrapped":
                raise RuntimeError("drawing was interrupted") from exc
        return real(*args)

    return draw


@pytest.mark.parametrize(
    "kind",
    ["wrapped", pytest.param("swallowed", marks=pytest.mark.slow)],  # ~8 s: report ends
)
def test_a_sigterm_during_a_report_figure_ends_it_with_143_and_one_line(
    stored, tmp_path, capsys, monkeypatch, kind
):
    import reports.figures as F

    monkeypatch.setattr(F, "accuracy_figure", _signalled_in_a_figure(kind))
    capsys.readouterr()
    code = main(["report", "--store", str(stored), "--out", str(tmp_path / "report")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 143
    assert len(err) == 1 and "terminated (SIGTERM)" in err[0], err


# ---- tune: a signal in a trial is one line, and the trial counts against no budget --------

_SIGNALLED_TUNE = """
import os, signal, sys, time
# Ctrl-C as in a terminal: a job started in the background (nohup, `&`) inherits SIGINT
# ignored, which the CLI rightly keeps ignoring
signal.signal(signal.SIGINT, signal.default_int_handler)
import studies.tuning.study as tuning

calls = []
def fit(config, data=None, *, on_epoch=None, **_):
    calls.append(config)
    on_epoch(1, 0.5)
    if len(calls) == 2:  # in the second trial's training
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        time.sleep(10)
    on_epoch(2, 0.6)
    return type("R", (), {"status": "ok", "val_accuracy": 0.6, "epochs_run": 2})
tuning.fit = fit
from studies.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _tune_args(store: Path, storage: str | None) -> list[str]:
    args = ["tune", "--variant", "full", "--dataset", "moons", "--depth", "1", "--trials", "3"]
    args += ["--epochs", "2", "--no-progress", "--store", str(store)]
    return args + (["--storage", storage] if storage else [])


def _counted_trials(store: Path, storage: str | None) -> list[str]:
    from studies.tuning.liveness import stale_numbers
    from studies.tuning.storage import open_storage

    opened = open_storage(storage or store)
    (study,) = [s for s in opened.get_all_studies() if s.study_name.startswith("full[")]
    trials = opened.get_all_trials(opened.get_study_id_from_name(study.study_name))
    stale = stale_numbers(trials)
    return [t.state.name for t in trials if t.number not in stale and t.state.name != "WAITING"]


def _signal_a_tune_trial(tmp_path, signame: str, storage: str | None = None) -> None:
    import os
    import subprocess
    import sys

    store = tmp_path / "t.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _SIGNALLED_TUNE, signame, *_tune_args(store, storage)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == {"SIGINT": 130, "SIGTERM": 143}[signame]
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("landau tune: "), done.stderr[-3000:]
    assert _counted_trials(store, storage) == ["COMPLETE"]  # the interrupted one is not counted


@pytest.mark.slow  # a tune in a subprocess: 30-45 s on 2 loaded cores
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_in_a_tune_trial_is_one_line_and_costs_no_budget(tmp_path, signame):
    _signal_a_tune_trial(tmp_path, signame)


# ---- --workers 2: no process outlives its parent -------------------------------------------


def _session(sid: int) -> list[int]:
    """Live processes of session ``sid`` (Linux /proc), zombies excepted."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended meanwhile
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(stat.parent.name))
    return pids


_WORKER_COMMANDS = {
    "grid": ["grid", "--variants", "full,no_quartic", "--datasets", "moons", "--seeds", "4",
             "--depths", "1", "--epochs", "400", "--seed-batch", "1"],
    "tune": ["tune", "--variants", "full,no_quartic", "--datasets", "moons", "--depths", "1",
             "--trials", "20", "--epochs", "100"],
}  # fmt: skip


@pytest.mark.slow  # a CLI run in a subprocess that starts two workers: 15-40 s
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("command", ["grid", "tune"])
def test_workers_end_within_5_s_of_their_parent(tmp_path, command, how):
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = [*_WORKER_COMMANDS[command], "--workers", "2", "--no-progress"]
    parent = subprocess.Popen(
        [sys.executable, "-m", "studies.cli", *args, "--store", str(tmp_path / "w.db")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(_session(parent.pid)) < 4 and time.monotonic() < deadline:  # + 2 workers
            time.sleep(0.2)  # and the resource tracker
        assert len(_session(parent.pid)) >= 4, "the workers did not start"
        time.sleep(2)  # at work
        os.kill(parent.pid, getattr(signal, how))
        parent.wait(30)
        ended = time.monotonic()
        while _session(parent.pid) and time.monotonic() < ended + 5:
            time.sleep(0.1)
        assert _session(parent.pid) == [], f"left {time.monotonic() - ended:.1f} s after"
        if how == "SIGTERM":
            assert parent.returncode == 143
            assert len(parent.stderr.read().decode().strip().splitlines()) == 1
    finally:
        for pid in _session(parent.pid):
            os.kill(pid, signal.SIGKILL)
        parent.stderr.close()
