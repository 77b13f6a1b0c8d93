"""Claims: verdicts read the Holm-adjusted p-value and the interval; the table is declarative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import claims_table
from reports.claim_measures import AccuracyTarget, PairedEffect
from reports.claims import (
    CLAIMS,
    INCONCLUSIVE,
    NO_DATA,
    NOT_SUPPORTED,
    SUPPORTED,
    Claim,
)

REQUIRED = ["id", "claim", "setting", "verdict", "estimate", "ci_low", "ci_high", "p_value",
            "p_holm", "n"]  # fmt: skip


def _blog(accs, depth, status=None):
    status = status or ["ok"] * len(accs)
    return pd.DataFrame(
        {"variant": "full", "dataset": "mnist", "depth": depth, "seed": range(len(accs)),
         "epochs": 100, "params_source": "preset:blog", "status": status, "test_accuracy": accs,
         "hp_lr": 0.05}
    )  # fmt: skip


def _cells(diffs_per_cell, variant="no_noise", n_pairs=6):
    """One moons/circles-like 2-class cell per entry, full − variant = the given raw difference
    (normalised: twice it), identical over the cell's pairs."""
    rows = []
    for i, diff in enumerate(diffs_per_cell):
        for name, acc in (("full", 0.8), (variant, 0.8 - diff)):
            rows.append(
                pd.DataFrame({"variant": name, "dataset": f"set{i}", "n_classes": 2, "depth": 1,
                              "seed": range(n_pairs), "epochs": 10, "params_source": "defaults",
                              "status": "ok", "test_accuracy": acc})
            )  # fmt: skip
    return pd.concat(rows)


def _table(runs, loss_ranking=None, **kw):
    return claims_table(runs, loss_ranking, **kw).set_index("id")


def test_columns_and_no_rank_in_estimate(synthetic):
    t = claims_table(synthetic.runs, synthetic.loss_ranking)
    assert REQUIRED == [c for c in t.columns if c in REQUIRED]
    row = t.set_index("id").loc["14"]
    assert np.isnan(row["estimate"]) and "rank 3 of 4" in row["measured"]


def test_paired_claims_on_cells():
    t = _table(_cells([0.02] * 8))  # 8 positive cells: Wilcoxon p = 2/256
    assert t.loc["4a-fixed", "verdict"] == SUPPORTED
    assert t.loc["4a-fixed", "estimate"] == pytest.approx(4.0)  # pp of chance-normalised accuracy
    assert t.loc["4a-fixed", "n"] == 8
    assert _table(_cells([-0.02] * 8)).loc["4a-fixed", "verdict"] == NOT_SUPPORTED
    mixed = _table(_cells([0.02, -0.02, 0.01, -0.01, 0.03, -0.015]))
    assert mixed.loc["4a-fixed", "verdict"] == INCONCLUSIVE
    assert "detectable" in mixed.loc["4a-fixed", "measured"]
    few = _table(_cells([0.05, 0.05, 0.05]))  # 3 cells: p ≥ 0.25 whatever the data
    assert few.loc["4a-fixed", "verdict"] == INCONCLUSIVE
    assert "cannot reach p < 0.05" in few.loc["4a-fixed", "measured"]
    others = ("4b-fixed", "6a-fixed", "7a-fixed", "8-fixed", "4a-tuned", "5a", "11", "13")
    assert {few.loc[i, "verdict"] for i in others} == {NO_DATA}


def test_verdict_reads_the_holm_adjusted_p_value():
    # five cells all positive: raw p = 2/32 = 0.0625 alone; with six positive cells p = 0.03125,
    # but four such claims in one family push Holm's p above 0.05
    runs = pd.concat(
        [_cells([0.02] * 6, v) for v in ("no_noise", "sgd", "no_quartic", "no_spatial")]
    )
    t = _table(runs)
    for i in ("4a-fixed", "4b-fixed", "6a-fixed", "7a-fixed"):
        assert t.loc[i, "p_value"] == pytest.approx(2 / 64)
        assert t.loc[i, "p_holm"] == pytest.approx(4 * 2 / 64)
        assert t.loc[i, "verdict"] == INCONCLUSIVE  # the raw p alone would have said supported
    alone = _table(_cells([0.02] * 6))
    assert alone.loc["4a-fixed", "p_holm"] == pytest.approx(2 / 64)
    assert alone.loc["4a-fixed", "verdict"] == SUPPORTED


def test_failures_count_at_chance_in_claims():
    runs = _cells([0.0] * 8)
    # the ablation diverges in every cell's first pair: a failure at 50% vs full's 80%
    bad = (runs["variant"] == "no_noise") & (runs["seed"] == 0)
    runs.loc[bad, "status"] = "diverged"
    t = _table(runs)
    assert t.loc["4a-fixed", "verdict"] == SUPPORTED
    assert "survivors only: +0.0 pp" in t.loc["4a-fixed", "measured"]


def test_accuracy_claims():
    runs = pd.concat([_blog([0.10, 0.12, 0.11, 0.09, 0.1, 0.12], 1), _blog([0.97] * 3, 2)])
    t = _table(runs)
    assert t.loc["1a", "verdict"] == NOT_SUPPORTED  # far below 92%, even distribution-free
    assert t.loc["1a", "ci_high"] < 92 and t.loc["1a", "p_holm"] < 0.05
    assert t.loc["1a", "setting"] == "preset:blog, 100 epochs; lr=0.05"
    # three runs at 97%: the interval cannot exclude 96% (a mode the runs did not hit)
    assert t.loc["2a", "verdict"] == INCONCLUSIVE
    assert 0 <= t.loc["2a", "ci_low"] <= t.loc["2a", "ci_high"] <= 100


def test_accuracy_claim_counts_failures_and_says_what_is_missing():
    runs = _blog([0.97, np.nan, np.nan], 2, ["ok", "diverged", "failed"])
    t = _table(runs)
    assert "1 diverged, 1 failed" in t.loc["2a", "measured"]
    assert t.loc["2a", "estimate"] == pytest.approx((97 + 10 + 10) / 3)  # failures at chance
    assert t.loc["1a", "verdict"] == NO_DATA and "landau" in t.loc["1a", "measured"]


def test_adding_a_claim_is_one_entry():
    extra = (*CLAIMS, Claim("8", "MNIST 30% with one layer", AccuracyTarget("mnist", 1, 0.3)))
    runs = _blog([0.9] * 10, 1)
    t = _table(runs, claims=extra)
    assert t.loc["8", "verdict"] == SUPPORTED and "30%" in t.loc["8", "rule"]
    assert t.loc["8", "p_holm"] >= t.loc["8", "p_value"]
    with pytest.raises(ValueError, match="duplicate claim id"):
        claims_table(runs, claims=(*CLAIMS, Claim("1a", "again", PairedEffect("sgd"))))


def test_loss_ranking_claim(synthetic):
    assert _table(pd.DataFrame(), synthetic.loss_ranking).loc["14", "verdict"] == NOT_SUPPORTED
    best = synthetic.loss_ranking[synthetic.loss_ranking["gamma"] == 0]
    assert _table(pd.DataFrame(), best).loc["14", "verdict"] == SUPPORTED
    lr = synthetic.loss_ranking.drop(columns=["rank", "is_perfect"])
    assert "rank 3 of 4 at alpha=0.0095" in _table(pd.DataFrame(), lr).loc["14", "measured"]


def test_empty_store_gives_no_data_everywhere():
    t = claims_table(pd.DataFrame())
    assert set(t["verdict"]) == {NO_DATA} and len(t) == len(CLAIMS)


def test_claims_on_synthetic_store(synthetic):
    v = _table(synthetic.runs, synthetic.loss_ranking)["verdict"]
    old = ["1a", "2a", "4a-fixed", "4b-fixed", "6a-fixed", "7a-fixed", "8-fixed", "14"]
    assert v[old].to_dict() == {
        "1a": INCONCLUSIVE,  # 3 runs near 93%: no interval over 3 runs excludes 92%
        "2a": INCONCLUSIVE,
        "4a-fixed": SUPPORTED,  # no_noise is 2 points worse in every cell
        "4b-fixed": SUPPORTED,  # sgd is 1 point worse
        "6a-fixed": INCONCLUSIVE,  # no effect except the one bimodal cell
        "7a-fixed": INCONCLUSIVE,  # no effect but one collapsed run
        "8-fixed": NOT_SUPPORTED,  # static_beta is slightly better in every cell
        "14": NOT_SUPPORTED,  # perfect ranks 3rd at the blog's alpha, gamma
    }


@pytest.mark.parametrize("p_holm, verdict", [(0.01, "not supported"), (0.2, "inconclusive")])
def test_non_equivalence_also_needs_the_holm_adjusted_p_value(p_holm, verdict):
    """An equivalence claim whose interval lies wholly outside the margin is `not supported`
    only when the Holm-adjusted p-value of exceeding the margin says so (the audit's rule)."""
    from reports.claim_measures import Measurement
    from reports.claims import _verdict

    m = Measurement("m", n=10, estimate=-27.7, ci_low=-49.8, ci_high=-5.6, p_value=0.03, band=5.0)
    assert _verdict(m, p_holm)[0] == verdict
