"""`landau experiments` (list, show, delete), a grid's plan against an unfinished other plan
under the same experiment (refused; --replace), and the experiment column of runs.parquet."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from studies.cli import main
from studies.store import Store

TINY = ["--datasets", "moons", "--seeds", "1", "--depths", "1", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def _built(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("experiments") / "r.db")
    assert (
        main(
            [
                "grid",
                "quick",
                "--variants",
                "full,logreg",
                *TINY,
                "--store",
                db,
                "--experiment",
                "a",
            ]
        )
        == 0
    )
    assert (
        main(["grid", "quick", "--variants", "logreg", *TINY, "--store", db, "--experiment", "b"])
        == 0
    )
    return db


@pytest.fixture
def store(_built, tmp_path):
    """Experiments a (full, logreg) and b (logreg: the same stored run), a copy per test
    (SQLite's backup: the WAL's pages included)."""
    with sqlite3.connect(_built) as source, sqlite3.connect(tmp_path / "r.db") as copy:
        source.backup(copy)
    return str(tmp_path / "r.db")


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_list_shows_each_experiment_with_its_runs_by_status(store, capsys):
    capsys.readouterr()
    assert main(["experiments", "--store", store]) == 0
    header, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.split()[:6] == ["experiment", "runs", "ok", "diverged", "failed", "not"]
    cells = {r.split()[0]: [int(v) for v in r.split()[1:7]] for r in rows}
    assert cells["a"][0] == 2 and cells["b"][0] == 1
    assert sum(cells["a"][1:4]) == 2 and cells["a"][4] == 0  # stored, none missing


def test_show_counts_the_cells_and_the_runs_not_stored_yet(store, capsys):
    with Store(store) as s:
        s.add_to_experiment("b", ["planned-but-not-run"])
    capsys.readouterr()
    assert main(["experiments", "show", "b", "--store", store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("experiment 'b': 2 runs (") and "1 not stored" in out
    assert "logreg" in out and "full" not in out
    assert main(["experiments", "show", "nope", "--store", store]) == 2
    assert "unknown experiment 'nope'; known: a, b" in _err(capsys)


def test_delete_needs_yes_and_removes_memberships_only(store, capsys):
    assert main(["experiments", "delete", "b", "--store", store]) == 2
    assert "add --yes to delete it" in _err(capsys)
    with Store(store) as s:
        assert set(s.experiments_frame()["name"]) == {"a", "b"}  # refused: nothing changed
    assert main(["experiments", "delete", "b", "--yes", "--store", store]) == 0
    with Store(store) as s:
        assert list(s.experiments_frame()["name"]) == ["a"]
        assert len(s.completed_ids()) == 2 and len(s.experiment_members("a")[0]) == 2
        assert s.run_settings_frame("b").empty
    assert main(["experiments", "delete", "b", "--yes", "--store", store]) == 2


def test_an_unfinished_other_plan_is_refused_and_replace_makes_the_new_plan_the_members(
    store, capsys
):
    with Store(store) as s:  # as a killed grid with more seeds leaves it
        s.add_to_experiment("a", ["seed-7-never-stored", "seed-8-never-stored"])
        before = s.experiment_members("a")[0]
    grid = ["grid", "quick", "--variants", "full,logreg", *TINY, "--store", store]
    assert main([*grid, "--experiment", "a"]) == 2
    assert "experiment 'a' counts 2 runs not stored yet that this grid does not ask for" in _err(
        capsys
    )
    with Store(store) as s:
        assert s.experiment_members("a")[0] == before
    assert main([*grid, "--experiment", "a", "--replace"]) == 0
    with Store(store) as s:
        members = s.experiment_members("a")[0]
        assert len(members) == 2 and not s.unstored_members("a")
    # Adding a finished grid's runs to an experiment is no conflict (several grids, one report)
    assert main([*grid[:3], "logreg", *grid[4:], "--experiment", "a"]) == 0
    assert main(["grid", "quick", "--variants", "full", *TINY, "--datasets", "circles",
                 "--store", store, "--experiment", "a"]) == 0  # fmt: skip
    with Store(store) as s:
        assert len(s.experiment_members("a")[0]) == 3


def test_runs_export_names_the_experiment_of_each_row(store, tmp_path):
    assert (
        main(["export", "--store", store, "--experiment", "a", "--out", str(tmp_path / "a")]) == 0
    )
    runs = pd.read_parquet(tmp_path / "a" / "runs.parquet")
    assert len(runs) == 2 and set(runs["experiment"]) == {"a"}
    assert main(["export", "--store", store, "--out", str(tmp_path / "all")]) == 0
    runs = pd.read_parquet(tmp_path / "all" / "runs.parquet")
    # one row per (run, experiment): logreg's run is in both
    assert sorted(runs["experiment"]) == ["a", "a", "b"]
    assert runs.groupby("experiment")["run_id"].nunique().to_dict() == {"a": 2, "b": 1}
