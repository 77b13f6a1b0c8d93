"""Tests and corrections against hand computations and trusted implementations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from reports.stats import (
    detectable_effect,
    holm,
    min_sign_flip_p,
    pareto_front,
    sign_flip_test,
    wilcoxon_test,
)


def _enumerated_sign_flip_p(d):
    """Oracle: every one of the 2^n sign patterns, |mean| at least the observed one."""
    d = np.asarray(d, float)
    means = [abs(np.mean(d * s)) for s in itertools.product((1, -1), repeat=d.size)]
    return np.mean(np.array(means) >= abs(d.mean()) - 1e-12)


def test_sign_flip_is_exact():
    for d in ([0.02, 0.03, 0.01], [0.02, -0.01, 0.03, 0.04, 0.0, 0.01], [1, 2, -3, 4, 5, 6, 7]):
        res = sign_flip_test(d)
        assert res.pvalue == pytest.approx(_enumerated_sign_flip_p(d))
        assert "exact" in res.test
    # three pairs, all positive: the smallest reachable p is 2/8
    assert sign_flip_test([0.1, 0.2, 0.3]).pvalue == pytest.approx(0.25) == min_sign_flip_p(3)
    assert sign_flip_test([0, 0, 0]).pvalue == 1.0
    assert np.isnan(sign_flip_test([]).pvalue)


def test_wilcoxon_matches_scipy_exact_without_ties():
    rng = np.random.default_rng(1)
    for n in (5, 8, 12):
        d = rng.normal(0.3, 1, n)
        assert wilcoxon_test(d).pvalue == pytest.approx(stats.wilcoxon(d, method="exact").pvalue)
    assert wilcoxon_test([0.0, 0.0]).pvalue == 1.0
    # ten positive cells: 2 / 2^10
    assert wilcoxon_test(np.arange(1, 11)).pvalue == pytest.approx(2 / 1024)


def test_holm_worked_example_and_statsmodels():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> max so far 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = holm([0.5, np.nan, 0.4])
    assert out[0] == pytest.approx(0.8) and np.isnan(out[1])
    p = np.random.default_rng(1).uniform(0, 0.2, size=12)
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert holm([]).size == 0


def _t_power(d, n, alpha=0.05):
    """Oracle: power of the two-sided one-sample t-test from the noncentral t distribution."""
    crit, nc = stats.t.ppf(1 - alpha / 2, n - 1), d * np.sqrt(n)
    return stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)


def test_detectable_effect_has_the_asked_power():
    for n in (5, 10, 12):
        assert _t_power(detectable_effect(n, 1.0), n) == pytest.approx(0.8, abs=1e-4)
    assert detectable_effect(10, 2.0) == pytest.approx(2 * detectable_effect(10, 1.0))
    assert detectable_effect(10, 1.0) == pytest.approx(0.996, abs=1e-3)
    assert np.isnan(detectable_effect(1, 1.0))


def test_pareto_front():
    cost = [1, 2, 3, 4, 2, np.nan]
    value = [0.5, 0.7, 0.6, 0.9, 0.7, 1.0]
    assert pareto_front(cost, value).tolist() == [True, True, False, True, False, False]
