"""The claims' procedures checked against trusted implementations and by simulation: the
median run's interval (coverage and power at the n the report uses), the Hodges–Lehmann
interval (the inversion of scipy's exact Wilcoxon test), and dataset-level pooling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports.claims.accuracy import median_ranks, median_test
from reports.claims.units import hodges_lehmann, pool_datasets

TARGET = 92.0
COLLAPSE_MEDIAN = 92.5 + 0.3 * stats.norm.ppf((0.5 - 0.2) / 0.8)  # 1 in 5 runs at chance


def _runs(scenario: str, rng, reps: int, n: int) -> tuple[np.ndarray, float]:
    """(reps, n) accuracies in percent and the true median of the scenario."""
    normal = rng.normal(92.5, 0.3, (reps, n))
    if scenario == "normal":
        return normal, 92.5
    if scenario == "near-ceiling":
        return np.minimum(100.0, rng.normal(99.9, 0.3, (reps, n))), 99.9
    if scenario == "bimodal":  # two modes 2 pp apart, the median between them
        return rng.choice([91.0, 93.0], (reps, n)) + rng.normal(0, 0.3, (reps, n)), 92.0
    if scenario == "collapsing":
        return np.where(rng.random((reps, n)) < 0.2, 10.0, normal), COLLAPSE_MEDIAN
    raise ValueError(scenario)


def _intervals(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The report's interval for every row of x, vectorised with scipy's order statistics."""
    ranks = median_ranks(x.shape[1])
    if ranks is None:  # too few runs: the whole range
        return np.zeros(len(x)), np.full(len(x), 100.0)
    xs = np.sort(x, axis=1)
    return xs[:, ranks[0]], xs[:, ranks[1]]


def _verdicts(x: np.ndarray, target: float) -> tuple[np.ndarray, np.ndarray]:
    """(supported, not supported) per row: the sign test's p < 0.05 and the interval's side."""
    low, high = _intervals(x)
    n = x.shape[1]
    below = np.sum(x < target, axis=1)
    p = np.minimum(1.0, 2 * stats.binom.cdf(np.minimum(below, n - below), n, 0.5))
    return (p < 0.05) & (low > target), (p < 0.05) & (high < target)


@pytest.mark.parametrize("scenario", ["normal", "near-ceiling", "bimodal", "collapsing"])
@pytest.mark.parametrize("n", [5, 10])
def test_median_interval_covers_the_true_median(scenario, n):
    rng = np.random.default_rng(17)
    x, true = _runs(scenario, rng, 4000, n)
    low, high = _intervals(x)
    assert np.mean((low <= true) & (true <= high)) >= 0.93
    for row in x[:20]:  # the vectorised form is the report's own computation
        m = median_test(row, TARGET)
        assert (m.low, m.high) == tuple(v[0] for v in _intervals(np.round(row[None], 9)))


def test_median_rule_has_power_at_ten_runs():
    rng = np.random.default_rng(3)
    good = rng.normal(92.5, 0.3, (1000, 10))
    supported, refuted = _verdicts(good, TARGET)
    assert supported.mean() >= 0.8 and refuted.mean() <= 0.025
    # a 91.7 % model with the spread of the shipped runs (sd 0.15 pp) is not supported
    short = rng.normal(91.7, 0.15, (1000, 10))
    supported, refuted = _verdicts(short, TARGET)
    assert refuted.mean() >= 0.8 and supported.mean() <= 0.025
    for row in np.vstack([good[:15], short[:15]]):  # the vectorised verdict is median_test's
        m = median_test(row, TARGET)
        s, r = _verdicts(row[None], TARGET)
        assert bool(s[0]) == (m.pvalue < 0.05 and m.low > TARGET)
        assert bool(r[0]) == (m.pvalue < 0.05 and m.high < TARGET)


def test_hodges_lehmann_interval_inverts_scipys_wilcoxon_test():
    rng = np.random.default_rng(5)
    for k in (6, 8, 11):
        d = rng.normal(1.0, 2.0, k)
        est, low, high = hodges_lehmann(d)
        i, j = np.triu_indices(k)
        assert est == pytest.approx(np.median((d[i] + d[j]) / 2))
        eps = 1e-7
        p = {s: stats.wilcoxon(d - s, method="exact").pvalue
             for s in (low - eps, low + eps, high - eps, high + eps)}  # fmt: skip
        assert p[low - eps] < 0.05 <= p[low + eps]
        assert p[high + eps] < 0.05 <= p[high - eps]
    assert hodges_lehmann([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, -100.0, 100.0)  # k = 5: unbounded


def test_pooling_summarises_depths_within_a_dataset():
    rows = []
    for ds, effect in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
        for depth in (1, 2):
            for seed in range(4):
                rows.append({"dataset": ds, "depth": depth, "seed": seed, "data_seed": 0,
                             "diff": effect * depth})  # fmt: skip
    pooled = pool_datasets(pd.DataFrame(rows), "diff", ["depth"])
    assert pooled.k == 3 and pooled.min_p == pytest.approx(0.25)
    assert pooled.datasets["estimate"].tolist() == [1.5, 3.0, 4.5]  # mean over depths
    assert pooled.datasets["n_reps"].tolist() == [4, 4, 4]  # seeds, each over its depths
