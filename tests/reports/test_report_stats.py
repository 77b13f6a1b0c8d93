"""Statistics against hand computations and trusted implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from reports.stats import bootstrap_mean_ci, holm, mean_ci, paired_test, pareto_front

T_975_2 = 4.302652729911275  # Student t quantile, 0.975, 2 degrees of freedom (tables: 4.303)


def test_mean_ci_of_a_known_sample():
    ci = mean_ci([0.90, 0.92, 0.94])
    half = T_975_2 * 0.02 / np.sqrt(3)  # s = 0.02
    assert ci.n == 3
    assert ci.mean == pytest.approx(0.92)
    assert ci.std == pytest.approx(0.02)
    assert (ci.low, ci.high) == pytest.approx((0.92 - half, 0.92 + half))
    assert half == pytest.approx(0.0496828, abs=1e-7)


def test_mean_ci_ignores_nan_and_handles_tiny_samples():
    assert mean_ci([0.5, np.nan]).n == 1
    one = mean_ci([0.5])
    assert one.mean == 0.5 and np.isnan(one.std) and np.isnan(one.low)
    assert np.isnan(mean_ci([]).mean)
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1, 2], confidence=1.5)


def test_holm_worked_example():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> max so far 0.06
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_keeps_nan():
    out = holm([0.5, np.nan, 0.4])
    assert out[0] == pytest.approx(0.8) and out[2] == pytest.approx(0.8)
    assert np.isnan(out[1])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert holm([]).size == 0


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(1).uniform(0, 0.2, size=12)
    expected = multitest.multipletests(p, method="holm")[1]
    assert holm(p) == pytest.approx(expected)


def test_bootstrap_is_reproducible_and_covers_the_mean():
    d = [0.01, 0.03, 0.02, 0.05, 0.00, 0.02]
    a = bootstrap_mean_ci(d, random_state=3)
    assert a == bootstrap_mean_ci(d, random_state=3)
    assert a[0] < np.mean(d) < a[1]
    assert bootstrap_mean_ci([0.02, 0.02, 0.02]) == (0.02, 0.02)
    assert np.isnan(bootstrap_mean_ci([0.1])[0])


def test_paired_test_chooses_wilcoxon_from_six_pairs():
    a = np.array([0.90, 0.91, 0.93, 0.92, 0.95, 0.94])
    b = a - np.array([0.01, 0.02, 0.015, 0.03, 0.005, 0.025])
    res = paired_test(a, b)
    assert res.test == "wilcoxon"
    assert res.pvalue == pytest.approx(stats.wilcoxon(a - b).pvalue)
    assert res.pvalue == pytest.approx(0.03125)  # exact: all 6 signs positive, 2 / 2^6


def test_paired_test_uses_t_below_six_pairs():
    a, b = [0.9, 0.91, 0.92, 0.93], [0.88, 0.90, 0.90, 0.91]
    res = paired_test(a, b)
    assert res.test == "paired t"
    assert res.pvalue == pytest.approx(stats.ttest_rel(a, b).pvalue)


def test_paired_test_degenerate_cases():
    assert paired_test([0.5] * 7, [0.5] * 7) == paired_test([0.5] * 7, [0.5] * 7)
    zero = paired_test([0.5] * 7, [0.5] * 7)
    assert zero.pvalue == 1.0 and zero.test.startswith("none")
    assert np.isnan(paired_test([0.5], [0.4]).pvalue)
    assert paired_test([0.5, np.nan, 0.7], [0.4, 0.3, np.nan]).test.startswith("none")
    with pytest.raises(ValueError, match="equal length"):
        paired_test([1, 2], [1])


def test_pareto_front():
    cost = [1, 2, 3, 4, 2, np.nan]
    value = [0.5, 0.7, 0.6, 0.9, 0.7, 1.0]
    assert pareto_front(cost, value).tolist() == [True, True, False, True, False, False]
