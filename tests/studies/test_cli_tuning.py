"""The commands tune, run and report, and the report's data from the store and the studies.

Tiny budgets; the report itself is faked (reports/ tests its own), except in the slow test.
"""

from __future__ import annotations

import shlex
import sqlite3

import optuna
import pandas as pd
import pytest

import studies.report_data as report_data
import studies.tuning.study as tuning
from reports import ReportData
from studies.cli import main
from studies.experiment.grid import TuningBudget
from studies.report_data import IMPORTANCE_COLUMNS, TRIAL_COLUMNS, gather
from studies.store.store import Store
from studies.tuning.keys import StudyKey, study_name
from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import StudyResult
from studies.tuning.workers import TuningSummary, tune_studies

TINY = """
name = "tiny"
variants = ["full", "logreg"]
datasets = ["moons"]
seeds = 1
depths = [1, 2]
epochs = 2

[tuning]
trials = 2
epochs = 2
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return str(path)


@pytest.fixture
def reports(monkeypatch, tmp_path):
    """Captures the ReportData instead of building the report."""
    seen = []

    def fake_build(data, out_dir, **kwargs):
        assert isinstance(data, ReportData)
        seen.append(data)
        return tmp_path / "index.html"

    monkeypatch.setattr(report_data, "build_report", fake_build)
    return seen


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


# ---- landau tune --------------------------------------------------------------------------


def test_tune_one_study_in_the_store_and_resume(tmp_path, capsys):
    store = tmp_path / "r.db"
    argv = [
        "tune",
        "--variant",
        "full",
        "--dataset",
        "moons",
        "--depth",
        "2",
        "--trials",
        "2",
        "--epochs",
        "2",
        "--store",
        str(store),
        "--no-progress",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "full[dataset=moons,depth=2,epochs=2," in out and "best " in out
    assert "Optuna overhead (sampler + storage)" in out and "% of" not in out
    name = study_name(StudyKey("full", "moons", 2), TuningBudget(trials=2, epochs=2))

    def trials() -> int:
        return len(optuna.load_study(study_name=name, storage=open_storage(store)).trials)

    assert main(argv) == 0 and trials() == 2  # the same command again: the budget is there
    assert "nothing tuned" in capsys.readouterr().out
    add = [a if a != "--trials" else "--add" for a in argv]
    assert main(add) == 0 and trials() == 4  # --add N adds N
    assert {"landau_meta", "runs", "optuna_journal"} <= _tables(store)  # beside each other
    with Store(store) as opened:  # still a landau store
        assert opened.runs_frame().empty


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--variant", "ful", "--dataset", "moons"], "unknown variant 'ful'; known: full"),
        (["--variant", "full", "--dataset", "mons"], "unknown dataset 'mons'; known: moons"),
        (["--variant", "full"], "--variant and --dataset go together"),
        (
            ["--variant", "full", "--dataset", "moons", "--trials", "0"],
            "`1 <= trials <= 10000` must hold",
        ),
        (
            ["--variant", "full", "--dataset", "moons", "--storage", "nosuch://x"],
            "cannot open Optuna storage",
        ),
        (["nosuchgrid"], "unknown grid 'nosuchgrid'; known:"),
    ],
)
def test_tune_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    assert main(["tune", *extra, "--store", str(tmp_path / "r.db"), "--no-progress"]) == 2
    assert message in _error(capsys)


def test_tune_refuses_a_study_with_another_space(tmp_path, capsys):
    store = tmp_path / "r.db"
    Store(store).close()
    name = study_name(StudyKey("full", "moons", 2), TuningBudget(epochs=2))
    stale = optuna.create_study(storage=open_storage(store), study_name=name)
    stale.set_user_attr("space", "[]")
    argv = [
        "tune",
        "--variant",
        "full",
        "--dataset",
        "moons",
        "--epochs",
        "2",
        "--store",
        str(store),
    ]
    assert main(argv) == 2
    assert "another search space" in _error(capsys)
    assert stale.trials == [] and len(open_storage(store).get_all_studies()) == 1


@pytest.mark.slow
def test_tune_a_grid_on_two_processes(spec, tmp_path, monkeypatch):
    url = storage_url(tmp_path / "s.db")
    keys = [StudyKey("full", "moons", 2), StudyKey("logreg", "moons", 1)]
    summary = tune_studies(keys, TuningBudget(trials=2, epochs=2), url, workers=2, progress=False)
    assert [r.name for r in summary.results] == [
        study_name(k, TuningBudget(epochs=2)) for k in keys
    ]
    assert [r.ran for r in summary.results] == [2, 2]
    assert 0.0 <= summary.overhead_share() <= 1.0
    top_up = tune_studies(keys, TuningBudget(trials=2, epochs=2), url, top_up=True, progress=False)
    assert [r.ran for r in top_up.results] == [0, 0]  # already at the budget: nothing added


def test_the_overhead_counts_preparing_the_studies_and_the_studies_that_ran():
    key = StudyKey("logreg", "moons", 1)
    ran = StudyResult("a", key, ran=2, wall_seconds=10.0, train_seconds=9.5)
    read_only = StudyResult("b", key, ran=0, wall_seconds=1.0)
    summary = TuningSummary([ran, read_only], wall_seconds=12.0, prepare_seconds=0.5)
    assert summary.overhead_share() == pytest.approx(1.0 / 10.5)
    last = summary.lines()[-1]
    assert "2 studies: 2 trials run now, in 12.0 s wall clock;" in last
    assert last.endswith(
        "1.00 s of the 10.5 s the studies took (summed over studies, data loading excluded) = 9.5 %"
    )


# ---- landau grid --tuned, landau run ------------------------------------------------------


def test_grid_tuned_without_studies_names_them_and_the_command(spec, tmp_path, capsys):
    assert main(["grid", spec, "--tuned", "--store", str(tmp_path / "r.db"), "--no-progress"]) == 2
    err = _error(capsys)
    assert "3 of 3 studies" in err and "logreg[dataset=moons,depth=1," in err
    # the grid is a path: the suggested command names the path, and it works
    assert f"`landau tune {spec} --store {tmp_path / 'r.db'} --variants full,logreg" in err
    assert "--datasets moons --depths 1,2 --trials 2 --epochs 2" in err
    suggested = shlex.split(err.rsplit("`", 2)[-2])
    assert main([*suggested[1:], "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["grid", spec, "--tuned", "--store", str(tmp_path / "r.db"), "--no-progress"]) == 0
    assert "the best trials of 3 studies tuned with 2 epochs/trial" in capsys.readouterr().out


def test_run_tunes_runs_the_grid_with_tuned_parameters_and_reports(spec, tmp_path, capsys, reports):
    store = tmp_path / "r.db"
    argv = [
        "run",
        spec,
        "--store",
        str(store),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "1",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert "Optuna overhead" in capsys.readouterr().out
    (data,) = reports
    runs = data.runs
    assert len(runs) == 3 and runs["params_source"].str.startswith("study:").all()
    assert set(data.trials["study_name"]) == set(runs["study_name"])
    assert len(data.trials) == 6 and set(data.trials["source"]) == {"preset:blog", "sampler"}
    assert main(argv) == 0  # resumes: no trial added, every run already stored
    assert "3 runs: 3 already stored, 0 executed" in capsys.readouterr().out
    assert len(reports[1].trials) == 6


# ---- landau report and its data -----------------------------------------------------------


def test_report_without_studies_gives_empty_tuning_frames_and_creates_no_tables(
    tmp_path, capsys, reports
):
    store = tmp_path / "r.db"
    Store(store).close()
    before = _tables(store)
    assert main(["report", "--store", str(store), "--out", str(tmp_path / "out")]) == 0
    (data,) = reports
    assert list(data.trials.columns) == TRIAL_COLUMNS and data.trials.empty
    assert list(data.importances.columns) == IMPORTANCE_COLUMNS and data.importances.empty
    assert _tables(store) == before
    assert "no Optuna studies found" in capsys.readouterr().out


def test_report_of_a_missing_store_is_an_error(tmp_path, capsys):
    assert main(["report", "--store", str(tmp_path / "none.db")]) == 2
    assert "no results store" in _error(capsys)


def test_trials_and_importances_frames_follow_the_data_model(tmp_path, monkeypatch):
    store = tmp_path / "r.db"
    Store(store).close()
    values = iter([0.5, 0.9, 0.7, 0.6, 0.8])

    def fake_train(config, data=None, *, on_epoch=None, **_):
        value = next(values)
        on_epoch(1, value)
        return type("R", (), {"status": "ok", "val_accuracy": value, "epochs_run": 1})

    monkeypatch.setattr(tuning, "fit", fake_train)
    url = storage_url(store)
    tune_studies(
        [StudyKey("full", "moons", 2)],
        TuningBudget(trials=4, epochs=1, pruner="none"),
        url,
        progress=False,
    )
    tune_studies(
        [StudyKey("logreg", "moons", 1)],
        TuningBudget(trials=1, epochs=1, pruner="none"),
        url,
        progress=False,
    )
    data, notes = gather(store)
    t = data.trials
    assert list(t.columns[: len(TRIAL_COLUMNS)]) == TRIAL_COLUMNS
    assert {"param_lr", "param_alpha", "param_C"} <= set(t.columns)
    assert len(t) == 5 and (t["state"] == "COMPLETE").all() and (t["seconds"] >= 0).all()
    full = t[t["variant"] == "full"]
    assert list(full["value"]) == [0.5, 0.9, 0.7, 0.6] and full["source"].iloc[0] == "preset:blog"
    imp = data.importances
    assert set(imp["study_name"]) == set(full["study_name"])  # logreg: 1 complete trial, skipped
    assert (imp["evaluator"] == "FanovaImportanceEvaluator").all()
    assert imp["importance"].sum() == pytest.approx(1.0)
    assert any("fewer than 2 complete" in n and "logreg" in n for n in notes)
    assert data.meta["importances_skipped"] and isinstance(data.runs, pd.DataFrame)


@pytest.mark.slow
def test_run_builds_a_real_report(spec, tmp_path):
    out = tmp_path / "out"
    argv = ["run", spec, "--store", str(tmp_path / "r.db"), "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    assert (out / "index.html").is_file() and (out / "figures" / "tuning_history.png").is_file()
