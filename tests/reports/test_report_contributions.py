"""Paired component contributions against hand-computed differences and scipy's tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports import component_contributions, holm, paired_runs


def _runs(variant, accs, status=None, dataset="moons", depth=1):
    status = status or ["ok"] * len(accs)
    return pd.DataFrame(
        {"variant": variant, "dataset": dataset, "depth": depth, "seed": range(len(accs)),
         "epochs": 10, "params_source": "defaults", "status": status, "test_accuracy": accs}
    )  # fmt: skip


def test_known_paired_difference_and_lost_pairs():
    full = [0.90, 0.91, 0.92, 0.93, 0.94]
    ablated = [0.88, 0.90, 0.90, 0.91, np.nan]
    runs = pd.concat(
        [_runs("full", full), _runs("no_quartic", ablated, ["ok"] * 4 + ["failed"]),
         _runs("plain_mlp", full)]
    )  # fmt: skip
    t = component_contributions(runs)
    assert list(t["variant"]) == ["no_quartic"]  # the anchor is not an ablation
    row = t.iloc[0]
    assert (row["n_pairs"], row["n_lost"]) == (4, 1)
    assert row["mean_diff"] == pytest.approx(np.mean([0.02, 0.01, 0.02, 0.02]))  # 0.0175
    assert row["test"] == "paired t"
    assert row["p_value"] == pytest.approx(stats.ttest_rel(full[:4], ablated[:4]).pvalue)
    assert row["ci95_low"] <= row["mean_diff"] <= row["ci95_high"]


def test_wilcoxon_from_six_pairs_and_holm_over_rows():
    full = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95]
    runs = pd.concat(
        [_runs("full", full), _runs("no_noise", [a - 0.02 for a in full]),
         _runs("sgd", [a - d for a, d in zip(full, [0.01, -0.01, 0.02, 0.0, 0.01, 0.03],
                                              strict=True)])]
    )  # fmt: skip
    t = component_contributions(runs)
    assert set(t["test"]) == {"wilcoxon"}
    assert t["p_holm"].to_numpy() == pytest.approx(holm(t["p_value"]))
    again = component_contributions(runs)
    assert t["ci95_low"].tolist() == again["ci95_low"].tolist()  # fixed random state


def test_pairs_match_on_dataset_depth_seed_and_setting():
    runs = pd.concat([_runs("full", [0.9, 0.9]), _runs("sgd", [0.8, 0.8], depth=2)])
    assert paired_runs(runs, "sgd").empty
    assert component_contributions(runs).empty


def test_pooled_over_datasets(synthetic):
    t = component_contributions(synthetic.runs, pooled=True).set_index("variant")
    row = t.loc["no_noise"]
    assert (row["n_pairs"], row["n_lost"], row["n_datasets"]) == (59, 1, 5)
    assert row["mean_diff"] == pytest.approx(0.02, abs=1e-3)  # synthetic EFFECT
    assert "plain_mlp" not in t.index and "logreg" not in t.index
    assert row["ci95_low"] > 0
