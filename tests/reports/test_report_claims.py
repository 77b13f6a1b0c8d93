"""Claims verdicts for constructed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import claims_table
from reports.claims import INCONCLUSIVE, NO_DATA, NOT_SUPPORTED, SUPPORTED


def _blog(accs, depth, status=None):
    status = status or ["ok"] * len(accs)
    return pd.DataFrame(
        {"variant": "full", "dataset": "mnist", "depth": depth, "seed": range(len(accs)),
         "epochs": 100, "params_source": "preset:blog", "status": status, "test_accuracy": accs}
    )  # fmt: skip


def _verdicts(runs, loss_ranking=None):
    return claims_table(runs, loss_ranking).set_index("id")["verdict"]


def test_accuracy_claims():
    runs = pd.concat([_blog([0.965, 0.97, 0.975], 2), _blog([0.50, 0.52, 0.49], 1)])
    v = _verdicts(runs)
    assert v["2"] == SUPPORTED  # around 0.97 > 0.96
    assert v["1"] == NOT_SUPPORTED  # around 0.5 < 0.92


def test_accuracy_claim_supported_when_interval_reaches_target():
    # mean 0.91, s = 0.01, upper end 0.91 + 4.3027 * 0.01 / √3 = 0.93484 ≥ 0.92
    t = claims_table(_blog([0.90, 0.91, 0.92], 1)).set_index("id")
    assert t.loc["1", "verdict"] == SUPPORTED
    assert t.loc["1", "ci95_high"] == pytest.approx(0.9348414, abs=1e-6)
    # the same spread around 0.85 stays below
    assert _verdicts(_blog([0.84, 0.85, 0.86], 1))["1"] == NOT_SUPPORTED


def test_accuracy_claim_needs_two_ok_runs_and_counts_failures():
    runs = _blog([0.97, np.nan, np.nan], 2, ["ok", "diverged", "failed"])
    t = claims_table(runs).set_index("id")
    assert t.loc["2", "verdict"] == INCONCLUSIVE
    assert "1 diverged, 1 failed" in t.loc["2", "measured"]
    assert t.loc["1", "verdict"] == NO_DATA
    assert "landau" in t.loc["1", "measured"]  # says how to get the data


def _paired(diffs, variant="no_noise"):
    full = 0.9 + 0.01 * np.arange(len(diffs))
    rows = []
    for name, accs in (("full", full), (variant, full - np.asarray(diffs))):
        rows.append(
            pd.DataFrame({"variant": name, "dataset": "moons", "depth": 1,
                          "seed": range(len(diffs)), "epochs": 10, "params_source": "defaults",
                          "status": "ok", "test_accuracy": accs})
        )  # fmt: skip
    return pd.concat(rows)


def test_component_claims():
    assert _verdicts(_paired([0.02, 0.03, 0.025, 0.02, 0.03, 0.01]))["3a"] == SUPPORTED
    assert _verdicts(_paired([-0.02, -0.03, -0.025, -0.02, -0.01]))["3a"] == NOT_SUPPORTED
    assert _verdicts(_paired([0.02, -0.02, 0.01, -0.01, 0.0, 0.005]))["3a"] == INCONCLUSIVE
    assert _verdicts(_paired([0.05, 0.05]))["3a"] == INCONCLUSIVE  # fewer than 3 pairs
    v = _verdicts(_paired([0.02] * 4, "no_quartic"))
    assert v["4"] == SUPPORTED
    assert v["3a"] == v["3b"] == v["5"] == v["6"] == NO_DATA


def test_loss_ranking_claim(synthetic):
    assert _verdicts(pd.DataFrame(), synthetic.loss_ranking)["7"] == NOT_SUPPORTED
    best = synthetic.loss_ranking[synthetic.loss_ranking["gamma"] == 0]
    assert _verdicts(pd.DataFrame(), best)["7"] == SUPPORTED
    assert _verdicts(pd.DataFrame())["7"] == NO_DATA


def test_claims_on_synthetic_store(synthetic):
    v = _verdicts(synthetic.runs, synthetic.loss_ranking)
    assert v.to_dict() == {
        "1": SUPPORTED,  # 0.93 ± …
        "2": SUPPORTED,  # 0.955, interval reaches 0.96
        "3a": SUPPORTED,  # no_noise is 0.02 worse
        "3b": SUPPORTED,  # sgd is 0.01 worse
        "4": INCONCLUSIVE,  # no effect
        "5": INCONCLUSIVE,
        "6": NOT_SUPPORTED,  # static_beta is slightly better
        "7": NOT_SUPPORTED,  # perfect ranks 3rd at the blog's alpha, gamma
    }


def test_empty_store_gives_no_data_everywhere():
    t = claims_table(pd.DataFrame())
    assert set(t["verdict"]) == {NO_DATA}
    assert len(t) == 8


def test_loss_ranking_without_rank_column_is_ranked_by_loss(synthetic):
    lr = synthetic.loss_ranking.drop(columns=["rank", "is_perfect"])
    t = claims_table(pd.DataFrame(), lr).set_index("id")
    assert t.loc["7", "verdict"] == NOT_SUPPORTED
    assert "rank 3 of 4 at alpha=0.0095, gamma=6.5 (blog values)" in t.loc["7", "measured"]
