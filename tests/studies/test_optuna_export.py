"""Studies Optuna's own tools open: ``open_storage`` with Optuna's API, ``landau export
--studies`` read back by URL (``optuna.load_study``, the ``optuna`` CLI), and the dashboard's
default snapshot, whose deletions do not reach the store."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from studies.cli import main
from studies.cli.dashboard import storage_for
from studies.tuning import open_storage

TINY = """
name = "tiny"
variants = ["full", "logreg"]
datasets = ["moons"]
seeds = 1
depths = [1]
epochs = 1

[tuning]
trials = 2
epochs = 2
"""


@pytest.fixture(scope="module")
def _tuned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuned")
    (folder / "tiny.toml").write_text(TINY)
    db = folder / "r.db"
    assert main(["tune", str(folder / "tiny.toml"), "--store", str(db), "--no-progress"]) == 0
    one = ["tune", "--variant", "plain_mlp", "--dataset", "moons", "--depth", "1", "--trials", "1"]
    assert main([*one, "--epochs", "2", "--store", str(db), "--no-progress"]) == 0  # no experiment
    return db


@pytest.fixture
def store(_tuned, tmp_path) -> str:
    """A copy per test (SQLite's backup: the WAL's pages included)."""
    with sqlite3.connect(_tuned) as source, sqlite3.connect(tmp_path / "r.db") as copy:
        source.backup(copy)
    return str(tmp_path / "r.db")


def _summaries(storage) -> dict[str, int]:
    return {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}


def test_open_storage_serves_optunas_own_api(store):
    storage = open_storage(store)
    studies = _summaries(storage)
    assert len(studies) == 3 and sorted(studies.values()) == [1, 2, 2]
    name = next(n for n in studies if n.startswith("full["))
    study = optuna.load_study(study_name=name, storage=storage)
    assert study.user_attrs["variant"] == "full" and study.best_trial.value > 0


def test_exported_studies_open_by_url_with_every_trial(store, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", "--store", store, "--out", str(out), "--studies"]) == 0
    assert "wrote 3 Optuna studies to" in capsys.readouterr().out
    url = f"sqlite:///{out / 'studies.db'}"
    assert _summaries(url) == _summaries(open_storage(store))
    for summary in optuna.get_all_study_summaries(open_storage(store)):
        copied = optuna.load_study(study_name=summary.study_name, storage=url)
        mine = optuna.load_study(study_name=summary.study_name, storage=open_storage(store))
        assert copied.user_attrs == mine.user_attrs
        assert [(t.state, t.value, t.params) for t in copied.trials] == [
            (t.state, t.value, t.params) for t in mine.trials
        ]
    # the optuna CLI lists them too (where the console script is installed beside Python)
    cli = Path(sys.executable).parent / "optuna"
    if cli.exists():
        listed = subprocess.run(
            [str(cli), "studies", "--storage", url, "-f", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert {s["name"] for s in json.loads(listed.stdout)} == set(_summaries(url))
    # again (as CSV) without --force: refused, naming the file
    assert (
        main(["export", "--store", store, "--out", str(out), "--studies", "--format", "csv"]) == 2
    )
    assert "already holds studies.db; pass --force" in capsys.readouterr().err


def test_export_of_one_experiment_writes_its_studies_only(store, tmp_path):
    out = tmp_path / "tiny"
    args = ["export", "--store", store, "--out", str(out), "--studies", "--experiment", "tiny"]
    assert main(args) == 0
    names = set(_summaries(f"sqlite:///{out / 'studies.db'}"))
    assert {n.split("[")[0] for n in names} == {"full", "logreg"}


def test_the_dashboard_serves_a_snapshot_unless_writable(store):
    served = storage_for(argparse.Namespace(store=store, storage=None, writable=False))
    before = _summaries(open_storage(store))
    assert _summaries(served) == before
    for study in served.get_all_studies():  # what the dashboard's delete buttons call
        served.delete_study(study._study_id)
    assert _summaries(served) == {} and _summaries(open_storage(store)) == before
    writable = storage_for(argparse.Namespace(store=store, storage=None, writable=True))
    assert writable is open_storage(store)
