"""The bad-input catalogue (issue 11): every case is one line on stderr, exit status 2, no
traceback, and the store's bytes unchanged (a full disk: the store intact). SIGTERM, last, is
exit 143 with one line and the finished runs kept. Grow CASES with every case found."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store import make_record  # a hand-made run record

from studies.cli import main
from studies.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
ONE = ["--variants", "logreg", "--datasets", "moons", "--depths", "1", "--seeds", "1"]
GRID = ["grid", *ONE, "--epochs", "1", "--no-progress"]
TUNE = ["tune", "--variant", "full", "--dataset", "moons", "--no-progress"]
STORED = [*GRID, "--store", "{store}"]
MLP = ["grid", "--variants", "plain_mlp", *ONE[2:], "--epochs", "1", "--store", "{store}"]
COMPARE = ["compare", "a", "b", "--store", "{store}"]
DASHBOARD = ["dashboard", "--store", "{store}"]
TOML = {
    "variants=5": "variants = 5",
    "params=5": "params = 5",
    "tuning=5": "tuning = 5",
    "name=5": "name = 5",
    "seeds=2.5": "seeds = 2.5",
    "epochs=1e6": "epochs = 1000000",
    "tuning.trials=0": "[tuning]\ntrials = 0",
    "malformed": "variants = [",
    "params.lrr": "[params]\nlrr = 0.5",
    "params.hidden=-5": "[params]\nhidden = -5",
    "params.hidden=2.5": "[params]\nhidden = 2.5",
    'params.lr="abc"': '[params]\nlr = "abc"',
    "params.lr=nan": "[params]\nlr = nan",
    "params.lr=0": "[params]\nlr = 0",
    "params.momentum=1": "[params]\nmomentum = 1.0",
    "params.temperature=true": "[params]\ntemperature = true",
    # issue 21: every integer has a maximum; names are checked; nothing is listed twice
    "params.max_iter=1e23": "[params]\nmax_iter = 99999999999999999999999",
    "params.max_iter=100001": "[params]\nmax_iter = 100001",
    "base_seed=2**40": "base_seed = 1099511627776",
    "data_seed=-1": "data_seed = -1",
    "tuning.seed=-1": "[tuning]\nseed = -1",
    "dataset_epochs.moons=10001": "[dataset_epochs]\nmoons = 10001",
    "diagnostics.subset=1e9": "[diagnostics]\nsubset = 1000000000",
    "variants-twice": 'variants = ["logreg", "logreg"]',
    "depths-twice": "depths = [1, 1]",
    "name-empty": 'name = ""',
    "name-control": 'name = "a\\u0000b"',
}

# (id, argv with {store} {tmp} {toml} placeholders, a part of the expected line)
CASES = [
    # argparse: one line, not the usage block
    ("no-subcommand", [], "the following arguments are required: command"),
    ("unknown-subcommand", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("unknown-option", ["grid", "--bogus"], "unrecognized arguments: --bogus"),
    ("epochs-nan", ["grid", "--epochs", "nan"], "`1 <= epochs <= 10000` must hold"),
    ("epochs-1e9", ["grid", "--epochs", "1e9"], "but got epochs='1e9'"),
    ("epochs-0", ["grid", "--epochs", "0"], "but got epochs=0"),
    ("epochs-over-max", ["grid", "--epochs", "10001"], "but got epochs=10001"),
    ("depths-1,x", ["grid", "--depths", "1,x"], "expected comma-separated integers"),
    ("depths-3", [*GRID, "--depths", "3", "--store", "{store}"], "unknown depth 3"),
    ("trials-1e9", ["tune", "--trials", "1e9"], "`1 <= trials <= 10000` must hold"),
    ("trials-0", ["tune", "--trials", "0"], "but got trials=0"),
    ("add-negative", ["tune", "--add", "-1"], "but got add=-1"),
    ("trials-and-add", ["tune", "--trials", "2", "--add", "2"], "not allowed with argument"),
    ("seed-negative", [*TUNE, "--seed", "-1"], "but got seed=-1"),
    ("seeds-0", ["grid", "--seeds", "0"], "`seeds >= 1` must hold"),
    ("workers-0", ["grid", "--workers", "0"], "but got workers=0"),
    ("threads-1000", ["grid", "--threads", "1000"], "but got threads=1000"),
    ("format-xls", ["export", "--store", "{store}", "--format", "xls"], "unknown format 'xls'"),
    # grids too big, unknown names: refused before any work
    ("seeds-1e9", ["grid", "--seeds", "1000000000", "--store", "{store}"], "runs (60 cells x"),
    ("data-seeds-1e9", ["grid", "--data-seeds", "1000000000", "--store", "{store}"], "a grid may"),
    (
        "tune-seeds",
        ["tune", "--seeds", "1000000000", "--store", "{store}"],
        "--seeds has no meaning",
    ),
    ("unknown-variant", ["grid", "--variants", "ful", "--store", "{store}"], "unknown variant"),
    ("unknown-dataset", ["grid", "--datasets", "mons", "--store", "{store}"], "unknown dataset"),
    ("unknown-grid", ["grid", "nosuchgrid", "--store", "{store}"], "unknown grid 'nosuchgrid'"),
    ("grid-file-missing", ["grid", "{tmp}/none.toml", "--store", "{store}"], "does not exist"),
    ("variant-without-dataset", ["tune", "--variant", "full"], "go together"),
    # grid TOML files: types, [params] keys, types and ranges
    *[
        (f"toml-{key}", ["grid", "{toml}", "--store", "{store}", "--no-progress"], "")
        for key in TOML
    ],
    # --out
    (
        "export-out-under-a-file",
        ["export", "--store", "{store}", "--out", "{tmp}/old.csv/x"],
        "old.csv' is a file, not a folder",
    ),
    ("export-out-a-file", ["export", "--store", "{store}", "--out", "{tmp}/old.csv"], "is a file"),
    (
        "export-out-holds-an-export",
        ["export", "--store", "{store}", "--format", "csv", "--out", "{tmp}/exp"],
        "--force",
    ),
    ("export-out-read-only", ["export", "--store", "{store}", "--out", "/proc/x.csv"], "/proc"),
    ("export-missing-store", ["export", "--store", "{tmp}/missing.db"], "no results store"),
    ("report-out-a-file", ["report", "--store", "{store}", "--out", "{tmp}/old.csv"], "is a file"),
    ("report-out-no-folder", ["report", "--store", "{store}", "--out", "{tmp}/no/r"], "no folder"),
    ("report-out-read-only", ["report", "--store", "{store}", "--out", "/proc/r"], "/proc"),
    ("report-missing-store", ["report", "--store", "{tmp}/missing.db"], "no results store"),
    ("dashboard-missing-store", ["dashboard", "--store", "{tmp}/missing.db"], "no results store"),
    ("dashboard-no-studies", ["dashboard", "--store", "{store}"], "holds no Optuna studies"),
    ("run-out-a-file", ["run", *ONE, "--store", "{store}", "--out", "{tmp}/old.csv"], "is a file"),
    # foreign files, bad URLs
    ("tune-foreign-storage", [*TUNE, "--storage", "{tmp}/foreign.db"], "neither a landau"),
    (
        "tune-grid-foreign-storage",
        ["tune", *ONE[:-2], "--store", "{store}", "--storage", "{tmp}/foreign.db"],
        "neither a landau",
    ),
    ("grid-foreign-store", [*GRID, "--store", "{tmp}/foreign.db"], "not a landau results store"),
    ("grid-not-sqlite", [*GRID, "--store", "{tmp}/old.csv"], "cannot open results store"),
    ("tune-bad-url", [*TUNE, "--storage", "nosuch://x"], "cannot open Optuna storage"),
    # ---- issue 21 ----
    # 1. every integer hyperparameter and size has a maximum, checked before any run
    ("set-hidden-1e23", [*MLP, "--set", "hidden=99999999999999999999999"], "hidden <= 16384"),
    ("set-hidden-1e9", [*MLP, "--set", "hidden=1000000000"], "but got hidden=1000000000"),
    ("set-batch_size-1e7", [*MLP, "--set", "batch_size=10000000"], "batch_size <= 65536"),
    ("set-max_iter-1e23", [*STORED, "--set", "max_iter=99999999999999999999999"], "max_iter <="),
    ("tuned-epochs-0", [*STORED, "--tuned", "--tuned-epochs", "0"], "but got tuned_epochs=0"),
    ("tune-depth-3", [*TUNE, "--depth", "3", "--store", "{store}"], "but got depth=3"),
    ("demo-epochs-1e9", ["demo", "--epochs", "1000000000"], "but got epochs=1000000000"),
    ("demo-seed-negative", ["demo", "--seed", "-1"], "but got seed=-1"),
    # 2. --set is one KEY=VALUE on one line
    ("set-newline", [*STORED, "--set", "max_iter=8\nC=5"], "one KEY=VALUE on one line"),
    ("set-escape", [*STORED, "--set", "C=1\x1b[2J"], "one KEY=VALUE on one line"),
    # 3. refused before the first write
    ("seed-batch-0", [*STORED, "--seed-batch", "0"], "but got population=0"),
    ("seed-batch-1e9", [*STORED, "--seed-batch", "1000000000"], "population <= 10000"),
    # 4. compare --out
    ("compare-out-a-file", [*COMPARE, "--out", "{tmp}/old.csv"], "is a file"),
    ("compare-out-read-only", [*COMPARE, "--out", "/proc/c"], "/proc"),
    ("compare-out-under-a-file", [*COMPARE, "--out", "{tmp}/old.csv/c"], "is a file"),
    # 5. dashboard: port range, a busy port, an unknown host
    ("dashboard-port-negative", [*DASHBOARD, "--port", "-1"], "`1 <= port <= 65535`"),
    ("dashboard-port-70000", [*DASHBOARD, "--port", "70000"], "but got port=70000"),
    ("dashboard-port-busy", [*DASHBOARD, "--port", "{busy}"], "the port is in use"),
    ("dashboard-unknown-host", [*DASHBOARD, "--host", "nosuch.invalid"], "cannot resolve"),
    # 6. a typed --out's missing parent is refused by export, report and compare alike
    ("export-out-no-folder", ["export", "--store", "{store}", "--out", "{tmp}/no/e"], "no folder"),
    ("compare-out-no-folder", [*COMPARE, "--out", "{tmp}/no/c"], "no folder"),
    # 13. names
    ("experiment-empty", [*STORED, "--experiment", ""], "leave --experiment out"),
    ("experiment-control", [*STORED, "--experiment", "a\x00b"], "control characters"),
    ("experiment-newline", [*STORED, "--experiment", "a\nb"], "control characters"),
    ("experiment-too-long", [*STORED, "--experiment", "x" * 257], "1-256 characters"),
    ("report-experiment-empty", ["report", "--store", "{store}", "--experiment", ""], "1-256"),
    (
        "export-experiment-control",
        ["export", "--store", "{store}", "--experiment", "\x1b"],
        "control",
    ),
    ("tune-experiment-empty", [*TUNE, "--store", "{store}", "--experiment", ""], "1-256"),
    ("variants-twice", [*STORED[:-2], "--variants", "logreg,logreg"], "listed 2 times"),
    ("datasets-twice", [*STORED, "--datasets", "moons,moons"], "'moons' is listed 2 times"),
    ("depths-twice", [*STORED, "--depths", "1,1"], "repeats a depth"),
    ("schema-version-abc", [*GRID, "--store", "{abc}"], "schema_version='abc'"),
]


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("base") / "r.db"
    with Store(path) as store:
        store.write_run(make_record())
    return path


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A port something listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_line(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err, err


@pytest.mark.parametrize("argv, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_stored_changes(
    argv, expected, base_store, busy_port, tmp_path, capsys, request
):
    store = tmp_path / "r.db"
    shutil.copy(base_store, store)
    shutil.copy(base_store, tmp_path / "abc.db")
    edit = sqlite3.connect(tmp_path / "abc.db")  # a store edited by hand
    with edit:
        edit.execute("UPDATE landau_meta SET value = 'abc' WHERE key = 'schema_version'")
    edit.close()
    (tmp_path / "old.csv").write_text("kept\n")
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "runs.csv").write_text("an earlier export\n")
    with sqlite3.connect(tmp_path / "foreign.db") as conn:
        conn.execute("CREATE TABLE notes (x)")
    toml = tmp_path / "g.toml"
    key = request.node.callspec.id.removeprefix("toml-")
    lines = {"variants": 'variants = ["logreg"]', "datasets": 'datasets = ["moons"]'}
    lines["depths"], lines["epochs"] = "depths = [1]", "epochs = 1"
    if key in TOML:
        first = TOML[key].split("\n")[0].split(" =")[0].strip("[]")
        lines[first] = TOML[key]
    toml.write_text("\n".join(lines.values()) + "\n")
    before = _files(tmp_path)
    places = {"store": store, "tmp": tmp_path, "toml": toml, "busy": busy_port}
    filled = [a.format(**places, abc=tmp_path / "abc.db") for a in argv]
    code = main(filled)
    _one_line(code, capsys.readouterr().err, expected)
    assert _files(tmp_path) == before  # the store's bytes, and no file made or changed


# ---- a full disk: the store stays intact ---------------------------------------------------


def _intact(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_a_full_database_is_one_line_and_the_store_intact(base_store, tmp_path, capsys):
    """SQLite's own SQLITE_FULL ("database or disk is full"): the file may not grow a page."""
    import studies.store.engine as engine

    store = tmp_path / "r.db"
    shutil.copy(base_store, store)
    with sqlite3.connect(store) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    original = engine._sqlite_connect

    def capped(dbapi_connection, record):
        original(dbapi_connection, record)
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_sqlite_connect", capped)
        code = main([*GRID, "--seeds", "2", "--store", str(store)])
    _one_line(code, capsys.readouterr().err, "the disk is full (database or disk is full)")
    assert _intact(store) == 1


@pytest.fixture
def tiny_tmpfs(tmp_path) -> Path:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_file_system_is_one_line_and_the_store_intact(base_store, tiny_tmpfs, capsys):
    store = tiny_tmpfs / "r.db"
    shutil.copy(base_store, store)
    reader = sqlite3.connect(store)  # another process's reader keeps the -wal and -shm files
    reader.execute("SELECT count(*) FROM runs").fetchone()
    with open(tiny_tmpfs / "filler", "wb", buffering=0) as filler:  # fill it to the last byte
        try:
            while True:
                filler.write(b"\0" * 512)
        except OSError:
            pass
    code = main([*GRID, "--seeds", "2", "--store", str(store)])
    reader.close()
    _one_line(code, capsys.readouterr().err, "the disk is full")
    (tiny_tmpfs / "filler").unlink()
    assert _intact(store) == 1


# ---- SIGTERM: like Ctrl-C, exit 143 -----------------------------------------------------------


@pytest.mark.slow
def test_sigterm_is_one_line_exit_143_and_finished_runs_are_kept(tmp_path):
    store = tmp_path / "r.db"
    argv = [*GRID[:-3], "--seeds", "30", "--epochs", "3", "--no-progress", "--store", str(store)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from studies.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, *argv], env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(store, timeout=30) as conn:
                if conn.execute("SELECT count(*) FROM runs").fetchone()[0] >= 1:
                    break
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "terminated (SIGTERM): finished runs and trials are stored" in err
    assert 1 <= _intact(store) < 30
