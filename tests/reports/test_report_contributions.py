"""Paired component contributions: failures at chance, pairing on (seed, data split), cells as
the units of the pooled test, chance-normalised scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports import cell_contributions, holm, paired_runs, pooled_contributions
from reports.contributions import PRIMARY, SURVIVORS


def _runs(variant, accs, status=None, dataset="moons", depth=1, data_seed=0):
    status = status or ["ok"] * len(accs)
    return pd.DataFrame(
        {"variant": variant, "dataset": dataset, "depth": depth, "seed": range(len(accs)),
         "data_seed": data_seed, "epochs": 10, "params_source": "defaults", "status": status,
         "test_accuracy": accs}
    )  # fmt: skip


def test_a_failed_run_counts_at_chance_and_survivors_are_the_sensitivity():
    full = [0.90, 0.91, 0.92, 0.93]
    ablated = [0.88, 0.90, 0.90, np.nan]
    runs = pd.concat(
        [_runs("full", full), _runs("no_quartic", ablated, ["ok"] * 3 + ["diverged"]),
         _runs("plain_mlp", full)]
    )  # fmt: skip
    t = cell_contributions(runs)
    assert list(t["variant"]) == ["no_quartic"]  # the anchor is not an ablation
    row = t.iloc[0]
    # moons has 2 classes: the diverged run counts at 50%, so its pair differs by 93 − 50 pp
    assert row["diff_pp"] == pytest.approx(np.mean([2, 1, 2, 43]))
    assert (row["n_pairs"], row["n_failed_pairs"]) == (4, 1)
    assert row["differences"] == "+2.0, +1.0, +2.0, +43.0"  # fewer than 5 pairs: listed
    assert row["p_value"] == pytest.approx(2 / 16)  # all four positive, exact sign flip
    assert -100 <= row["ci95_low"] <= row["diff_pp"] <= row["ci95_high"] <= 100
    surv = cell_contributions(runs, analysis=SURVIVORS).iloc[0]
    assert surv["n_pairs"] == 3 and surv["diff_pp"] == pytest.approx(5 / 3)


def test_pairs_match_on_seed_and_data_split():
    runs = pd.concat(
        [_runs("full", [0.9, 0.8]), _runs("full", [0.7, 0.6], data_seed=1),
         _runs("sgd", [0.85, 0.75]), _runs("sgd", [0.5, 0.4], data_seed=1)]
    )  # fmt: skip
    pairs = paired_runs(runs, "sgd")
    assert len(pairs) == 4
    d = (pairs["accuracy_reference"] - pairs["accuracy_variant"]).round(6).tolist()
    assert sorted(d) == [0.05, 0.05, 0.2, 0.2]
    other_depth = pd.concat([_runs("full", [0.9]), _runs("sgd", [0.8], depth=2)])
    assert paired_runs(other_depth, "sgd").empty and cell_contributions(other_depth).empty


def test_pooled_takes_cells_as_units_on_the_normalised_scale():
    # two cells: a 2-class one (+10 pp raw = +20 pp normalised) and a 10-class one
    # (+9 pp raw = +10 pp normalised); six pairs per cell do not make twelve units
    runs = pd.concat(
        [_runs("full", [0.9] * 6), _runs("sgd", [0.8] * 6),
         _runs("full", [0.55] * 6, dataset="digits"), _runs("sgd", [0.46] * 6, dataset="digits")]
    )  # fmt: skip
    pooled = pooled_contributions(runs)
    row = pooled[pooled["analysis"] == PRIMARY].iloc[0]
    assert (row["n_cells"], row["n_pairs"], row["n_datasets"]) == (2, 12, 2)
    assert row["estimate_pp"] == pytest.approx(15.0)
    assert row["p_value"] == pytest.approx(0.5)  # two positive cells: 2 / 2^2, not 2 / 2^12
    assert set(pooled["analysis"]) == {PRIMARY, SURVIVORS}


def test_holm_over_cells_and_deterministic(synthetic):
    t = cell_contributions(synthetic.runs)
    assert t["p_holm"].to_numpy() == pytest.approx(holm(t["p_value"]))
    shuffled = synthetic.runs.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(t, cell_contributions(shuffled))


def test_pooled_on_synthetic_store(synthetic):
    t = pooled_contributions(synthetic.runs).set_index(["variant", "analysis"])
    primary, surv = t.loc[("no_noise", PRIMARY)], t.loc[("no_noise", SURVIVORS)]
    assert (primary["n_cells"], primary["n_pairs"], primary["n_failed_pairs"]) == (10, 60, 1)
    assert (surv["n_pairs"], surv["n_failed_pairs"]) == (59, 0)
    # the diverged run at chance makes the primary effect larger than the survivors'
    assert primary["estimate_pp"] > surv["estimate_pp"] > 0
    assert np.isnan(surv["p_holm"]) and np.isfinite(primary["p_holm"])
