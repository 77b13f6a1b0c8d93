"""Start-up: a command with nothing to train imports neither torch nor scikit-learn (each costs
seconds on a loaded machine): a grid whose runs are all stored; an export imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from studies.cli import main
from studies.store import Store

# --device auto asks torch unless the installed build is a CPU one (its version says "+cpu")
_CPU_BUILD = metadata.version("torch").endswith("+cpu")
GRID = [
    "grid", "quick", "--variants", "full,logreg", "--datasets", "moons", "--seeds", "1",
    "--depths", "1", "--epochs", "1", "--no-progress", "--device", "auto" if _CPU_BUILD else "cpu",
]  # fmt: skip


def _fresh(argv: list[str]) -> tuple[int, list[str], str]:
    """``landau argv`` in a fresh interpreter: its status, which heavy modules it imported, and
    what it printed."""
    code = (
        "import json, sys\n"
        "from studies.cli import main\n"
        f"status = main({argv!r})\n"
        "heavy = [m for m in ('torch', 'sklearn', 'optuna') if m in sys.modules]\n"
        "print(json.dumps([status, heavy]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True
    )
    *printed, last = done.stdout.strip().splitlines()
    status, heavy = json.loads(last)
    return status, heavy, "\n".join(printed)


def test_a_grid_with_every_run_stored_does_not_import_torch(tmp_path):
    store = str(tmp_path / "r.db")
    assert main([*GRID, "--store", store]) == 0  # here, where torch is imported already
    status, heavy, printed = _fresh([*GRID, "--store", store, "--experiment", "again"])
    assert status == 0 and heavy == []
    assert "2 already stored, 0 executed" in printed
    with Store(store) as opened:  # the membership is recorded all the same
        assert len(opened.experiment_members("again")[0]) == 2


def test_export_reads_the_store_without_torch(tmp_path):
    store = str(tmp_path / "r.db")
    assert main([*GRID, "--store", store]) == 0
    status, heavy, printed = _fresh(["export", "--store", store, "--out", str(tmp_path / "x")])
    assert status == 0 and "torch" not in heavy  # (optuna's importances bring scikit-learn)
    assert "wrote 10 parquet files" in printed
