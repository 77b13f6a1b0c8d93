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
    tuning_cost_table,
)

T_975_2 = 4.302652729911275


def _runs(rows):
    base = {"dataset": "moons", "depth": 1, "epochs": 10, "params_source": "defaults",
            "seconds": 10.0, "seconds_per_epoch": 1.0, "samples_per_second": 100.0,
            "n_params": 50, "val_accuracy": 0.5, "error": None}  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


def _five_full_runs():
    accs = [0.90, 0.92, 0.94, 0.10, np.nan]  # the diverged run's 0.10 must not be used
    status = ["ok", "ok", "ok", "diverged", "failed"]
    return _runs(
        [{"variant": "full", "seed": s, "status": st, "test_accuracy": a}
         for s, (a, st) in enumerate(zip(accs, status, strict=True))]
    )  # fmt: skip


def test_accuracy_counts_every_run_and_averages_ok_ones():
    row = accuracy_table(_five_full_runs()).iloc[0]
    assert (row["n_runs"], row["n_ok"], row["n_diverged"], row["n_failed"]) == (5, 3, 1, 1)
    half = T_975_2 * 0.02 / np.sqrt(3)
    assert row["mean_ok"] == pytest.approx(0.92)
    assert row["std_ok"] == pytest.approx(0.02)
    assert row["ci95_low_ok"] == pytest.approx(0.92 - half)
    assert row["ci95_high_ok"] == pytest.approx(0.92 + half)


def test_accuracy_keeps_settings_apart():
    runs = pd.concat(
        [_five_full_runs(), _runs([{"variant": "full", "seed": 0, "status": "ok",
                                    "test_accuracy": 0.5, "params_source": "preset:blog"}])]
    )  # fmt: skip
    table = accuracy_table(runs)
    assert sorted(table["source"]) == ["defaults", "preset:blog"]
    assert table.set_index("source").loc["preset:blog", "n_runs"] == 1


def test_accuracy_of_synthetic_store_counts_failures(synthetic):
    t = accuracy_table(synthetic.runs).set_index(["variant", "dataset", "depth", "source"])
    failed = t.loc[("sgd", "circles", 2, "defaults")]
    diverged = t.loc[("no_noise", "moons", 1, "defaults")]
    assert (failed["n_runs"], failed["n_ok"], failed["n_failed"]) == (6, 5, 1)
    assert (diverged["n_ok"], diverged["n_diverged"]) == (5, 1)
    assert t["n_runs"].sum() == len(synthetic.runs)


def test_accuracy_table_of_nothing_is_empty_with_columns():
    t = accuracy_table(pd.DataFrame())
    assert t.empty and "mean_ok" in t.columns and "n_failed" in t.columns


def test_status_and_failures(synthetic):
    s = status_table(synthetic.runs).set_index("variant")
    assert s.loc["all", "n_runs"] == len(synthetic.runs) == 8 * 5 * 6 * 2 + 8
    assert (s.loc["all", "diverged"], s.loc["all", "failed"]) == (1, 1)
    assert s.loc["sgd", "failed"] == 1
    f = failures_table(synthetic.runs)
    assert sorted(f["status"]) == ["diverged", "failed"]
    assert f["error"].str.len().gt(0).all()
    assert status_table(pd.DataFrame()).iloc[0]["n_runs"] == 0


def test_runtime_means_over_ok_runs(synthetic):
    t = runtime_table(synthetic.runs).set_index(["variant", "dataset", "depth", "source"])
    row = t.loc[("full", "moons", 1, "defaults")]
    assert row["seconds_per_run"] == pytest.approx(60 + np.mean(range(6)))  # 60 s + seed
    assert row["n_params"] == 30
    failed = t.loc[("sgd", "circles", 2, "defaults")]
    assert failed["n_ok"] == 5
    assert failed["seconds_all_runs"] == pytest.approx(sum(120 + s for s in range(6)))


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
    ]
    row = t.iloc[0]
    assert row["logreg"] == "0.750 ± 0.071 (n=2)"
    assert row["full"] == "0.900 (n=1)"
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
