"""Claims: verdicts read the Holm-adjusted p-value within the claim's family and the interval of
the same procedure; datasets are the units of pooled claims; the table is declarative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import claims_table
from reports.claims import (
    ACCURACY,
    CLAIMS,
    INCONCLUSIVE,
    NO_DATA,
    NOT_EQUIVALENT,
    NOT_SUPPORTED,
    SUPPORTED,
    UNDETERMINED,
    Claim,
    Measurement,
    verdict,
)
from reports.claims.accuracy import AccuracyTarget
from reports.claims.paired import PairedEffect

REQUIRED = ["id", "claim", "setting", "verdict", "estimate", "ci_low", "ci_high", "p_value",
            "p_holm", "n", "family", "role", "units", "reading"]  # fmt: skip


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


def test_paired_claims_on_datasets():
    t = _table(_cells([0.02] * 8))  # 8 positive datasets: Wilcoxon p = 2/256
    assert t.loc["4a-fixed", "verdict"] == SUPPORTED
    assert t.loc["4a-fixed", "estimate"] == pytest.approx(4.0)  # pp of chance-normalised accuracy
    assert t.loc["4a-fixed", "n"] == 8 and t.loc["4a-fixed", "units"] == "8 datasets"
    assert _table(_cells([-0.02] * 8)).loc["4a-fixed", "verdict"] == NOT_SUPPORTED
    mixed = _table(_cells([0.02, -0.02, 0.01, -0.01, 0.03, -0.015]))
    assert mixed.loc["4a-fixed", "verdict"] == INCONCLUSIVE
    assert "detectable" in mixed.loc["4a-fixed", "measured"]
    few = _table(_cells([0.05, 0.05, 0.05]))  # 3 datasets: p ≥ 0.25 whatever the data
    assert few.loc["4a-fixed", "verdict"] == INCONCLUSIVE
    assert "cannot reach p < 0.05" in few.loc["4a-fixed", "measured"]
    assert (few.loc["4a-fixed", "ci_low"], few.loc["4a-fixed", "ci_high"]) == (-100, 100)
    others = ("4b-tuned", "6a-fixed", "7a-fixed", "8-fixed", "4a-tuned", "5a-fixed", "11", "13")
    assert {few.loc[i, "verdict"] for i in others} == {NO_DATA}


def test_depths_of_one_dataset_are_one_unit():
    one = _cells([0.02] * 8, n_pairs=10)  # per dataset: sign-flip p = 2/1024, Holm over 8
    two_depths = pd.concat([one, one.assign(depth=2)])
    row = _table(two_depths).loc["4a-fixed"]
    assert row["n"] == 8 and row["p_value"] == pytest.approx(2 / 256)  # not 16 units
    assert "helps on 8 datasets, hurts on 0, undetermined on 0" in row["reading"]


def test_verdict_reads_the_holm_adjusted_p_value_within_its_family():
    # six positive datasets: raw p = 2/64 = 0.03125 each, but four mechanism claims in one
    # family push Holm's p above 0.05; the accuracy and stability families do not count
    variants = ("no_noise", "no_quartic", "no_spatial", "static_beta")
    t = _table(pd.concat([_cells([0.02] * 6, v) for v in variants]))
    for i in ("4a-fixed", "6a-fixed", "7a-fixed", "8-fixed"):
        assert t.loc[i, "p_value"] == pytest.approx(2 / 64)
        assert t.loc[i, "p_holm"] == pytest.approx(4 * 2 / 64)
        assert t.loc[i, "verdict"] == INCONCLUSIVE  # the raw p alone would have said supported
    alone = _table(_cells([0.02] * 6))
    assert alone.loc["4a-fixed", "p_holm"] == pytest.approx(2 / 64)
    assert alone.loc["4a-fixed", "verdict"] == SUPPORTED


def test_the_other_protocol_is_a_sensitivity_row_outside_the_family():
    # sgd's claim is declared under the tuned protocol: fixed-protocol runs give a sensitivity
    # row, judged on its own p-value, with no family and no Holm adjustment
    t = _table(pd.concat([_cells([0.02] * 6, v) for v in ("sgd", "no_noise", "no_quartic")]))
    row = t.loc["4b-fixed"]
    assert (row["role"], row["family"]) == ("sensitivity", "")
    assert np.isnan(row["p_holm"]) and row["verdict"] == SUPPORTED
    assert row["reading"].startswith("sensitivity")
    assert t.loc["4b-tuned", "verdict"] == NO_DATA and t.loc["4b-tuned", "family"] == "mechanism"
    assert t.loc["4a-fixed", "p_holm"] == pytest.approx(2 * 2 / 64)  # a family of two, not three


def test_datasets_that_disagree_read_dataset_dependent():
    # three datasets where the component clearly helps, three where it clearly hurts
    runs = _cells([0.1, 0.1, 0.1, -0.1, -0.1, -0.1], n_pairs=10)
    runs["test_accuracy"] += np.tile(np.linspace(-0.01, 0.01, 10), 12)  # spread within each
    row = _table(runs).loc["4a-fixed"]
    assert row["verdict"] == "dataset-dependent"
    assert "helps on 3 datasets, hurts on 3, undetermined on 0" in row["reading"]
    agree = _table(_cells([0.1] * 3 + [0.02] * 3, n_pairs=10)).loc["4a-fixed"]
    assert agree["verdict"] == SUPPORTED  # different sizes, same direction


def test_failures_count_at_chance_in_claims():
    runs = _cells([0.0] * 8)
    # the ablation diverges in every cell's first pair: a failure at 50% vs full's 80%
    bad = (runs["variant"] == "no_noise") & (runs["seed"] == 0)
    runs.loc[bad, "status"] = "diverged"
    t = _table(runs)
    assert t.loc["4a-fixed", "verdict"] == SUPPORTED
    assert (
        "conditional on both runs finishing (survivors only): +0.0 pp"
        in t.loc["4a-fixed", "measured"]
    )
    # the failures are their own row: no_noise alone fails in 8 of 8 discordant pairs
    stab = t.loc["4a-stability"]
    assert stab["verdict"] == SUPPORTED and stab["family"] == "stability"
    assert stab["p_value"] == pytest.approx(2 / 256) and stab["estimate"] == 100
    assert "full fails in 0 of 48 pairs, no_noise in 8" in stab["reading"]


def test_accuracy_claims():
    runs = pd.concat([_blog([0.10, 0.12, 0.11, 0.09, 0.1, 0.12] * 2, 1), _blog([0.97] * 3, 2)])
    t = _table(runs)
    assert t.loc["1a", "verdict"] == NOT_SUPPORTED  # far below 92%, the sign test's minimum p
    assert t.loc["1a", "ci_high"] < 92 and t.loc["1a", "p_holm"] < 0.05
    assert t.loc["1a", "setting"] == "preset:blog, 100 epochs; lr=0.05"
    assert t.loc["1a", "units"] == "12 runs" and t.loc["1a", "family"] == ACCURACY
    # three runs at 97%: no order-statistic interval of 3 runs excludes anything
    assert t.loc["2a", "verdict"] == INCONCLUSIVE
    assert (t.loc["2a", "ci_low"], t.loc["2a", "ci_high"]) == (0, 100)
    assert "3 runs cannot bound the median" in t.loc["2a", "measured"]


def test_accuracy_claim_on_the_shipped_runs():
    """The shipped report's ten 1b runs, all in 91.4–91.9 %: the median run is below 92 %."""
    shipped = [91.6, 91.9, 91.7, 91.8, 91.4, 91.8, 91.8, 91.6, 91.5, 91.7]
    row = _table(_blog([a / 100 for a in shipped], 1)).loc["1a"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((91.5, 91.8))
    assert row["p_value"] == pytest.approx(2 / 1024) and row["estimate"] == pytest.approx(91.7)
    assert row["verdict"] == NOT_SUPPORTED
    assert "rounds to 92%, the claim's whole percent" in row["reading"]
    assert "0 of 10 runs reach it" in row["reading"]


def test_accuracy_claim_counts_failures_and_says_what_is_missing():
    runs = _blog([0.97, np.nan, np.nan], 2, ["ok", "diverged", "failed"])
    t = _table(runs)
    assert "1 diverged, 1 failed" in t.loc["2a", "measured"]
    assert t.loc["2a", "estimate"] == pytest.approx(10)  # the median run: a failure at chance
    assert "1 of 3 runs reach it" in t.loc["2a", "reading"]
    assert t.loc["1a", "verdict"] == NO_DATA and "landau" in t.loc["1a", "measured"]


def test_adding_a_claim_is_one_entry():
    new = Claim("1c", "MNIST 30% with one layer", AccuracyTarget("mnist", 1, 0.3), ACCURACY)
    runs = _blog([0.9] * 10, 1)
    t = _table(runs, claims=(*CLAIMS, new))
    assert t.loc["1c", "verdict"] == SUPPORTED and "30%" in t.loc["1c", "rule"]
    assert t.loc["1c", "p_holm"] >= t.loc["1c", "p_value"]
    with pytest.raises(ValueError, match="duplicate claim id"):
        claims_table(runs, claims=(*CLAIMS, Claim("1a", "again", PairedEffect("sgd"))))
    with pytest.raises(ValueError, match="unknown family 'accuracies'"):
        Claim("1d", "x", PairedEffect("sgd"), "accuracies")
    with pytest.raises(ValueError, match="a sensitivity row has no family"):
        Claim("1d", "x", PairedEffect("sgd"), ACCURACY, "sensitivity")


def test_declared_families_hold_one_row_per_hypothesis():
    t = claims_table(pd.DataFrame())
    primary = t[t["role"] == "primary"]
    assert set(t.loc[t["family"] == ACCURACY, "id"]) == {"1a", "1b", "2a", "2b"}
    hypotheses = primary["id"].str.replace(r"-(fixed|tuned)$", "", regex=True)
    assert hypotheses.is_unique  # one protocol per hypothesis inside the families
    assert (t.loc[t["role"] == "sensitivity", "family"] == "").all()
    assert t.set_index("id").loc["4c", "role"] == "sensitivity"  # 4c is 4a on the sweep
    assert "one component" in t.set_index("id").loc["6a-fixed", "rule"]


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
    t = _table(synthetic.runs, synthetic.loss_ranking)
    v = t["verdict"]
    assert v[["1a", "2a", "14"]].to_dict() == {
        "1a": INCONCLUSIVE,  # 3 runs near 93%: no interval over 3 runs excludes 92%
        "2a": INCONCLUSIVE,
        "14": NOT_SUPPORTED,  # perfect ranks 3rd at the blog's alpha, gamma
    }
    # five datasets: the smallest Wilcoxon p is 2/32, so no pooled row can decide, however
    # clear its cells (no_noise is 2 points worse in every cell)
    for i in ("4a-fixed", "6a-fixed", "7a-fixed", "8-fixed"):
        assert v[i] == INCONCLUSIVE and t.loc[i, "units"] == "5 datasets"
        assert "cannot reach p < 0.05 (the exact minimum is 0.0625)" in t.loc[i, "measured"]


@pytest.mark.parametrize("p, expected", [(0.01, NOT_EQUIVALENT), (0.2, UNDETERMINED)])
def test_non_equivalence_also_needs_the_adjusted_p_value(p, expected):
    """An equivalence claim whose interval lies wholly outside the margin is `not equivalent`
    only when the (adjusted) p-value of exceeding the margin says so."""
    m = Measurement("m", n=10, estimate=-27.7, ci_low=-49.8, ci_high=-5.6, p_value=0.03, band=5.0)
    assert verdict(m, p) == expected
