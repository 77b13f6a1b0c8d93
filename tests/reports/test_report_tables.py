"""Table builders: counts by status, statistics over ok runs, runtime, tuning cost, anchors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import (
    accuracy_table,
    anchors_table,
    failures_table,
    runtime_table,
    status_table,
    tuned_params_table,
    tuning_cost_table,
)
from reports.data import normalise_runs


def _runs(rows):
    base = {"dataset": "moons", "depth": 1, "epochs": 10, "params_source": "defaults",
            "seconds": 10.0, "seconds_per_epoch": 1.0, "samples_per_second": 100.0,
            "n_params": 50, "val_accuracy": 0.5, "error": None}  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


def _five_full_runs():
    accs = [0.90, 0.92, 0.94, 0.10, np.nan]  # a diverged run's accuracy is not its result
    status = ["ok", "ok", "ok", "diverged", "failed"]
    return _runs(
        [{"variant": "full", "seed": s, "status": st, "test_accuracy": a}
         for s, (a, st) in enumerate(zip(accs, status, strict=True))]
    )  # fmt: skip


def test_accuracy_counts_failures_at_chance_in_percent():
    row = accuracy_table(_five_full_runs()).iloc[0]
    assert (row["n"], row["n_ok"], row["n_diverged"], row["n_failed"]) == (5, 3, 1, 1)
    assert row["chance"] == 50.0  # moons: 2 classes
    assert row["mean"] == pytest.approx(np.mean([90, 92, 94, 50, 50]))
    assert row["mean_survivors"] == pytest.approx(92.0)
    assert 0 <= row["ci95_low"] <= row["mean"] <= row["ci95_high"] <= 100
    assert 0 <= row["t95_low"] <= row["t95_high"] <= 100
    assert row["runs"] == ""  # five runs: the figure shows them, the table does not list them


def test_accuracy_lists_runs_of_small_cells_and_flags_collapse():
    runs = _runs(
        [{"variant": "full", "seed": 0, "status": "ok", "test_accuracy": 0.90},
         {"variant": "full", "seed": 1, "status": "ok", "test_accuracy": 0.50},
         {"variant": "full", "seed": 2, "status": "diverged", "test_accuracy": np.nan}]
    )  # fmt: skip
    row = accuracy_table(runs).iloc[0]
    assert row["n_collapsed"] == 1  # 50% on a 2-class dataset is not above chance
    assert row["runs"] == "90.0, 50.0c, 50.0d"
    stored = runs.assign(collapsed=[True, False, False], chance_accuracy=[0.6, 0.6, 0.6])
    row = accuracy_table(stored).iloc[0]
    assert row["n_collapsed"] == 1 and row["chance"] == pytest.approx(60.0)
    assert row["runs"] == "90.0c, 50.0, 60.0d"  # the stored flag and chance win


def test_constant_runs_have_zero_spread_not_float_noise():
    runs = _runs([{"variant": "full", "seed": s, "status": "ok", "test_accuracy": 0.1 + 0.2}
                  for s in range(3)])  # fmt: skip
    row = accuracy_table(runs).iloc[0]
    assert row["std"] == 0.0


def test_old_store_without_new_columns_gets_fallbacks(synthetic):
    from report_synthetic import NEW_COLUMNS

    old = synthetic.runs.drop(columns=list(NEW_COLUMNS))
    r = normalise_runs(old)
    assert set(r["data_seed"]) == {0}
    assert r.loc[r["dataset"] == "digits", "chance_accuracy"].eq(0.1).all()
    assert r.loc[r["dataset"] == "moons", "n_classes"].eq(2).all()
    # the stored collapsed run is at 50% on a 2-class dataset: derived as collapsed too
    assert r["collapsed"].sum() == normalise_runs(synthetic.runs)["collapsed"].sum() > 0


def test_accuracy_keeps_settings_apart():
    runs = pd.concat(
        [_five_full_runs(), _runs([{"variant": "full", "seed": 0, "status": "ok",
                                    "test_accuracy": 0.5, "params_source": "preset:blog"}])]
    )  # fmt: skip
    table = accuracy_table(runs)
    assert sorted(table["source"]) == ["defaults", "preset:blog"]
    assert table.set_index("source").loc["preset:blog", "n"] == 1


def test_accuracy_of_synthetic_store_counts_failures(synthetic):
    t = accuracy_table(synthetic.runs).set_index(["variant", "dataset", "depth", "source"])
    failed = t.loc[("sgd", "circles", 2, "defaults")]
    diverged = t.loc[("no_noise", "moons", 1, "defaults")]
    assert (failed["n"], failed["n_ok"], failed["n_failed"]) == (6, 5, 1)
    assert (diverged["n_ok"], diverged["n_diverged"]) == (5, 1)
    assert t.loc[("no_spatial", "circles", 2, "defaults"), "n_collapsed"] == 1
    assert t.loc[("no_quartic", "classification", 1, "defaults"), "n_collapsed"] == 3  # bimodal
    assert t["n"].sum() == len(synthetic.runs)


def test_accuracy_table_of_nothing_is_empty_with_columns():
    t = accuracy_table(pd.DataFrame())
    assert t.empty and {"mean", "ci95_low", "ci95_high", "n_collapsed"} <= set(t.columns)


def test_status_and_failures(synthetic):
    s = status_table(synthetic.runs).set_index("variant")
    assert s.loc["all", "n_runs"] == len(synthetic.runs) == 8 * 5 * 3 * 2 * 2 + 6
    assert (s.loc["all", "diverged"], s.loc["all", "failed"]) == (1, 1)
    assert s.loc["sgd", "failed"] == 1
    f = failures_table(synthetic.runs)
    assert sorted(f["status"]) == ["diverged", "failed"]
    assert f["error"].str.len().gt(0).all()
    assert status_table(pd.DataFrame()).iloc[0]["n_runs"] == 0


def test_runtime_means_over_ok_runs(synthetic):
    t = runtime_table(synthetic.runs).set_index(["variant", "dataset", "depth", "source"])
    row = t.loc[("full", "moons", 1, "defaults")]
    assert row["seconds_per_run"] == pytest.approx(60 + np.mean(range(3)))  # 60 s + seed
    assert row["n_params"] == 30
    failed = t.loc[("sgd", "circles", 2, "defaults")]
    assert failed["n_ok"] == 5
    assert failed["seconds_all_runs"] == pytest.approx(2 * sum(120 + s for s in range(3)))


def test_runtime_shows_the_provenance_of_ok_runs(synthetic):
    runs = synthetic.runs.copy()
    runs["threads"] = 1
    runs["load_avg"] = np.arange(len(runs), dtype=float)
    runs.loc[runs["status"] != "ok", "load_avg"] = 1e6  # a failed run's load is not its cell's
    t = runtime_table(runs).set_index(["variant", "dataset", "depth", "source"])
    key = ("full", "moons", 1, "defaults")
    cell = runs[(runs["variant"] == "full") & (runs["dataset"] == "moons") & (runs["depth"] == 1)]
    expected = cell.loc[cell["status"] == "ok", "load_avg"].max()
    assert t.loc[key, "threads"] == "1" and t.loc[key, "load_avg_max"] == expected
    bare = runtime_table(synthetic.runs.drop(columns=["threads", "load_avg"], errors="ignore"))
    assert bare["load_avg_max"].isna().all() and (bare["threads"] == "").all()


def test_tuning_cost_per_variant(synthetic):
    t = tuning_cost_table(synthetic.trials).set_index("variant")
    row = t.loc["full"]
    assert (row["n_studies"], row["n_trials"], row["n_complete"]) == (1, 10, 8)
    assert (row["n_pruned"], row["n_fail"], row["seconds"]) == (1, 1, 50.0)
    assert tuning_cost_table(pd.DataFrame()).empty
    with pytest.raises(ValueError, match="unknown trial columns"):
        tuning_cost_table(synthetic.trials, by=["nope"])


def test_anchors_pivot_puts_anchors_first():
    runs = _runs(
        [{"variant": "logreg", "seed": 0, "status": "ok", "test_accuracy": 0.7},
         {"variant": "logreg", "seed": 1, "status": "ok", "test_accuracy": 0.8},
         {"variant": "full", "seed": 0, "status": "ok", "test_accuracy": 0.9},
         {"variant": "no_quartic", "seed": 0, "status": "failed", "test_accuracy": np.nan}]
    )  # fmt: skip
    t = anchors_table(runs)
    assert list(t.columns) == [
        "dataset",
        "depth",
        "source",
        "epochs",
        "plain_mlp",
        "logreg",
        "full",
        "no_quartic",
    ]
    row = t.iloc[0]
    assert row["logreg"] == "75.0 ± 7.1 (n=2)"
    assert row["full"] == "90.0 (n=1)"
    assert row["no_quartic"] == "50.0 (n=1)"  # the failed run, at chance
    assert pd.isna(row["plain_mlp"])


def test_normalise_runs_collapses_study_sources_and_fills_columns():
    from reports.data import normalise_runs, variant_order

    runs = pd.DataFrame(
        {"variant": ["full", None], "params_source": ["study:full-moons#3", "preset:blog"]}
    )
    r = normalise_runs(runs)
    assert r["source"].tolist() == ["study", "preset:blog"]
    assert r["variant"].tolist() == ["full", "unknown"]
    assert {"test_accuracy", "status", "seed", "depth"} <= set(r.columns)
    assert variant_order(["logreg", "sgd", "full", "plain_mlp", "no_noise"]) == [
        "full", "no_noise", "sgd", "plain_mlp", "logreg",
    ]  # fmt: skip


def test_tuned_params_are_the_best_complete_trial(synthetic):
    t = tuned_params_table(synthetic.trials).set_index("variant")
    trials = synthetic.trials
    for variant in ("full", "plain_mlp"):
        done = trials[(trials["variant"] == variant) & (trials["state"] == "COMPLETE")]
        best = done.sort_values(["value", "number"], ascending=[False, True]).iloc[0]
        assert t.loc[variant, "best"] == pytest.approx(100 * best["value"])
        assert t.loc[variant, "lr"] == pytest.approx(best["param_lr"])
        assert t.loc[variant, "n_trials"] == 10
    assert tuned_params_table(pd.DataFrame()).empty
