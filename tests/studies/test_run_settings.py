"""A run asked for under two settings (issue 9): when tuning chose exactly the fixed protocol's
values, the tuned run is the fixed run (same parameters, same id), stored once; the experiment
records both settings and the report counts the run in both protocols, once in its run counts."""

from __future__ import annotations

import pandas as pd

from reports.context import ReportContext
from reports.data import add_settings, normalise_runs
from reports.first_page import _counts
from reports.tables import accuracy_table, failures_table, status_table
from studies.experiment.grid import GridSpec
from studies.experiment.runner import run_grid, setting
from studies.report_data import gather
from studies.store import Store

SPEC = GridSpec("g", ("full", "logreg"), ("moons",), seeds=2, depths=(1,), epochs=2)


def _tuned(full_lr: float) -> dict:
    """Each variant's "best trial": logreg's at its defaults, full's at another lr."""
    return {
        ("full", "moons", 1): ({"lr": full_lr}, "study-full", 3),
        ("logreg", "moons", 1): ({}, "sl", 0),
    }


def test_a_tuned_run_equal_to_the_fixed_run_is_stored_once_and_counted_in_both(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as store:
        fixed = run_grid(SPEC.expand(), store, progress=False, experiment="e")
        tuned_runs = SPEC.expand(tuned=_tuned(0.05))
        tuned = run_grid(tuned_runs, store, progress=False, experiment="e")
        # logreg's study chose its defaults: its 2 tuned runs are the fixed ones; full's differ
        assert (fixed.executed, tuned.executed, tuned.skipped) == (4, 2, 2)
        assert len(store.completed_ids()) == 6
        settings = store.run_settings_frame("e")
        assert len(settings) == 8 and settings["run_id"].nunique() == 6
        shared = settings.groupby("run_id")["params_source"].nunique()
        assert (shared == 2).sum() == 2  # logreg's two runs, under both settings
        assert set(settings["params_source"]) == {"defaults", "study:sl#0", "study:study-full#3"}
        assert store.run_settings_frame("other").empty
    data, _ = gather(path, experiment="e")
    runs = normalise_runs(data.runs)
    assert len(runs) == 8 and int(runs["alias"].sum()) == 2
    logreg = runs[runs["variant"] == "logreg"]
    assert sorted(logreg["protocol"]) == ["fixed", "fixed", "tuned", "tuned"]
    assert set(logreg.loc[logreg["alias"], "study_name"]) == {"sl"}
    # counted once where runs are counted, under each setting where settings are compared
    status = status_table(data.runs)
    assert status.loc[status["variant"] == "all", "n_runs"].item() == 6
    acc = accuracy_table(data.runs)
    assert sorted(acc.loc[acc["variant"] == "logreg", "source"]) == ["defaults", "study"]
    ctx = ReportContext(data, tmp_path / "out", strict=False, draw_figures=False)
    counts = _counts(ctx)
    assert counts.startswith("6 runs: ") and " 2 of them serve a second setting" in counts


def test_settings_are_recorded_once_and_membership_follows(tmp_path):
    with Store(tmp_path / "r.db") as store:
        runs = SPEC.expand()
        for _ in range(2):  # asking twice records each (run, setting) once
            store.add_to_experiment("e", settings=[setting(r) for r in runs])
        assert len(store.run_settings_frame("e")) == 4
        assert store.experiment_members("e")[0] == {r.run_id for r in runs}
        store.add_to_experiment("f", settings=[setting(runs[0])])
        everything = store.run_settings_frame()
        assert len(everything) == 4  # the same (run, setting) in two experiments: once
        assert str(everything["trial_number"].dtype) == "Int64"


def test_add_settings_copies_the_stored_run_with_the_other_labels():
    runs = pd.DataFrame(
        {
            "run_id": ["a", "b"],
            "variant": ["full", "full"],
            "dataset": ["moons", "moons"],
            "status": ["ok", "failed"],
            "test_accuracy": [0.9, None],
            "params_source": ["defaults", "defaults"],
            "study_name": [None, None],
            "trial_number": [None, None],
            "sweep": [None, None],
        }
    )
    settings = pd.DataFrame(
        {
            "run_id": ["a", "a", "b", "zz"],  # zz: not stored (missing), never invented
            "params_source": ["defaults", "study:s#2", "study:s#2", "study:s#2"],
            "study_name": [None, "s", "s", "s"],
            "trial_number": [None, 2, 2, 2],
            "sweep": [None, None, None, None],
        }
    )
    out = add_settings(runs, settings)
    assert list(out["alias"]) == [False, False, True, True]
    assert list(out["params_source"]) == ["defaults", "defaults", "study:s#2", "study:s#2"]
    assert list(out.loc[out["alias"], "test_accuracy"].fillna(-1)) == [0.9, -1]
    assert out.loc[out["alias"], "trial_number"].tolist() == [2, 2]
    assert add_settings(runs, settings.iloc[:0]).equals(runs.assign(alias=False))
    # the failed run is one failure in the failures table, not two
    assert len(failures_table(out)) == 1
    norm = normalise_runs(out)
    assert sorted(norm["protocol"]) == ["fixed", "fixed", "tuned", "tuned"]
    assert normalise_runs(runs)["alias"].eq(False).all()  # frames without the column
