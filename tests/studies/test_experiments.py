"""Experiments: membership, migration of a version-1 store, and reports scoped to one
experiment (unrelated runs added to the store leave its tables byte-identical)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from studies.cli import main
from studies.store import SCHEMA_VERSION, Store

QUICK = ["--datasets", "moons", "--seeds", "1", "--depths", "1", "--epochs", "2", "--no-progress"]


def _grid(store: Path, *extra: str) -> int:
    argv = ["grid", "quick", "--variants", "full,logreg", *QUICK, "--store", str(store)]
    return main([*argv, *extra])


def test_runs_belong_to_the_grids_experiment_and_shared_runs_are_stored_once(tmp_path):
    store = tmp_path / "r.db"
    assert _grid(store) == 0
    assert _grid(store, "--experiment", "other") == 0  # the same runs: nothing trained again
    with Store(store) as s:
        quick, _ = s.experiment_members("quick")
        other, _ = s.experiment_members("other")
        assert quick == other and len(quick) == 2 and len(s.completed_ids()) == 2
        assert s.latest_experiment() == "other"
        assert list(s.experiments_frame()["n_runs"]) == [2, 2]
        with pytest.raises(ValueError, match="unknown experiment 'nope'; known: other, quick"):
            s.experiment_members("nope")


@pytest.mark.slow
def test_report_of_an_experiment_ignores_unrelated_runs_byte_for_byte(tmp_path):
    store, out1, out2 = tmp_path / "r.db", tmp_path / "a", tmp_path / "b"
    assert _grid(store) == 0
    report = ["report", "--store", str(store), "--experiment", "quick"]
    assert main([*report, "--out", str(out1)]) == 0
    more = ["--variants", "full", "--datasets", "circles", "--experiment", "unrelated"]
    assert main(["grid", "quick", *QUICK[2:], *more, "--store", str(store)]) == 0
    assert main([*report, "--out", str(out2)]) == 0
    tables = sorted(p.relative_to(out1) for p in (out1 / "tables").rglob("*.csv"))
    assert tables
    for rel in tables:
        assert (out1 / rel).read_bytes() == (out2 / rel).read_bytes(), rel
    # Without --experiment: the latest one, named on the first line.
    assert main(["report", "--store", str(store), "--out", str(tmp_path / "c")]) == 0
    first = (tmp_path / "c" / "report.md").read_text().splitlines()[0]
    assert "unrelated" in first


def _v1_store(path: Path) -> None:
    """A version-1 store as the previous release wrote it (runs table without the new columns)."""
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE landau_meta (key VARCHAR(64) PRIMARY KEY, value TEXT);
        INSERT INTO landau_meta VALUES ('kind', 'landau-bench results store');
        INSERT INTO landau_meta VALUES ('schema_version', '1');
        CREATE TABLE runs (run_id VARCHAR(128) PRIMARY KEY, name TEXT, grid TEXT, variant TEXT,
          dataset TEXT, seed INTEGER, depth INTEGER, epochs INTEGER, status TEXT, error TEXT,
          val_accuracy FLOAT, test_accuracy FLOAT, final_train_loss FLOAT, seconds FLOAT,
          seconds_per_epoch FLOAT, samples_per_second FLOAT, n_params BIGINT, epochs_run INTEGER,
          device TEXT, params_source TEXT, study_name TEXT, trial_number INTEGER, params TEXT,
          config TEXT, initial_betas TEXT, created_at DATETIME);
        """
    )
    config = json.dumps({"data_seed": 1, "variant": "full"})
    con.execute(
        "INSERT INTO runs VALUES ('r1', 'full[...]', 'quick', 'full', 'moons', 0, 1, 2, 'ok', "
        "NULL, 0.9, 0.88, 0.1, 1.0, 0.5, 100.0, 10, 2, 'cpu', 'defaults', NULL, NULL, '{}', ?, "
        "'{}', '2026-01-01 00:00:00')",
        (config,),
    )
    con.commit()
    con.close()


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.db"
    _v1_store(path)
    with Store(path) as s:
        runs = s.runs_frame()
        assert runs.loc[0, "data_seed"] == 1 and runs["collapsed"].isna().all()
        assert s.experiment_members("quick") == ({"r1"}, set())
    con = sqlite3.connect(path)
    version = con.execute("SELECT value FROM landau_meta WHERE key='schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)
    with Store(path) as s:  # opening again changes nothing
        assert len(s.runs_frame()) == 1


@pytest.mark.slow
def test_the_first_page_says_how_many_runs_of_the_experiment_are_missing(tmp_path):
    store, out = tmp_path / "r.db", tmp_path / "out"
    assert _grid(store) == 0
    with Store(store) as s:
        s.add_to_experiment("quick", ["planned-but-not-run"])
    assert main(["report", "--store", str(store), "--experiment", "quick", "--out", str(out)]) == 0
    page = (out / "report.md").read_text()
    assert "2 runs: 2 ok" in page and "1 runs of the experiment are not stored yet" in page
