"""Coverage of the accuracy intervals, by simulation at the n the report uses (3, 5, 10 runs).

The truth is known, so the test can fail: an interval whose coverage drops below 0.93 at the
95% level fails. Bimodal cells (some seeds collapse) are the case a t-interval gets wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from reports.intervals import (
    bounded_mean_bounds,
    bounded_mean_ci,
    bounded_mean_pvalue,
    t_interval,
)

REPS = 4000
NS = (3, 5, 10)


def _normal(rng, n, mean=0.9, sd=0.03):
    return np.clip(rng.normal(mean, sd, (REPS, n)), 0, 1)


def _bimodal(rng, n, w_low):
    """Mixture: weight w_low near 0.5 (a collapsed seed), the rest near 0.9."""
    low = rng.random((REPS, n)) < w_low
    return np.where(low, rng.normal(0.5, 0.01, (REPS, n)), rng.normal(0.9, 0.01, (REPS, n)))


CASES = {
    # name: (sampler, true mean)
    "normal 0.9±0.03": (lambda rng, n: _normal(rng, n), 0.9),
    "bimodal 50/50 at 0.5 and 0.9": (lambda rng, n: _bimodal(rng, n, 0.5), 0.7),
    "bimodal 1 in 5 collapses": (lambda rng, n: _bimodal(rng, n, 0.2), 0.82),
}


def _t_bounds(x):
    out = [t_interval(row) for row in x]
    return np.array([c.low for c in out]), np.array([c.high for c in out])


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("n", NS)
def test_report_interval_has_nominal_coverage_inside_the_range(case, n):
    sample, truth = CASES[case]
    x = sample(np.random.default_rng(n), n)
    low, high = bounded_mean_bounds(x)
    assert np.all((0 <= low) & (low <= x.mean(1)) & (x.mean(1) <= high) & (high <= 1))
    coverage = np.mean((low <= truth) & (truth <= high))
    assert coverage >= 0.93, f"{case}, n={n}: coverage {coverage:.3f}"


def test_coverage_near_the_upper_bound():
    # mean 0.97, sd 0.02: a t-interval leaves [0, 1]; the bounded interval cannot
    rng = np.random.default_rng(7)
    truth = np.clip(rng.normal(0.97, 0.02, 10**6), 0, 1).mean()
    for n in NS:
        x = np.clip(rng.normal(0.97, 0.02, (REPS, n)), 0, 1)
        low, high = bounded_mean_bounds(x)
        assert high.max() <= 1
        assert np.mean((low <= truth) & (truth <= high)) >= 0.93


@pytest.mark.parametrize("n", NS)
def test_t_interval_is_nominal_for_normal_runs_and_stays_in_range(n):
    x = _normal(np.random.default_rng(100 + n), n, mean=0.95, sd=0.04)[:2000]
    low, high = _t_bounds(x)
    truth = np.clip(np.random.default_rng(0).normal(0.95, 0.04, 10**6), 0, 1).mean()
    assert np.all((low >= 0) & (high <= 1))
    assert np.mean((low <= truth) & (truth <= high)) >= 0.93


def test_t_interval_under_covers_a_bimodal_cell_of_three_runs():
    """Why the report's accuracy interval is not the t-interval (reports/intervals.py)."""
    x = _bimodal(np.random.default_rng(3), 3, 0.5)[:2000]
    low, high = _t_bounds(x)
    assert np.mean((low <= 0.7) & (0.7 <= high)) < 0.85  # simulated ≈ 0.75


def test_known_values():
    ci = bounded_mean_ci([0.9, 0.9, 0.9])
    # all mass at 0.9: the low end moves ε = ksone.ppf(0.975, 3) of it to 0
    from scipy import stats

    eps = stats.ksone.ppf(0.975, 3)
    assert ci.low == pytest.approx(0.9 * (1 - eps))
    assert ci.high == pytest.approx(0.9 + 0.1 * eps)
    assert ci.std == 0.0  # not 1e-17
    t = t_interval([0.90, 0.92, 0.94])
    half = 4.302652729911275 * 0.02 / np.sqrt(3)
    assert (t.low, t.high) == pytest.approx((0.92 - half, 0.92 + half))
    assert t_interval([0.1, 0.9, 0.5]).low == 0.0  # clipped, not negative


def test_p_value_agrees_with_the_interval():
    x = [0.55, 0.6, 0.72, 0.8, 0.85, 0.9]
    for target in (0.2, 0.35, 0.95):
        p = bounded_mean_pvalue(x, target)
        ci = bounded_mean_ci(x, confidence=1 - p)
        assert target == pytest.approx(ci.low if target < 0.7 else ci.high, abs=1e-6)
    assert bounded_mean_pvalue(x, np.mean(x)) == 1.0
    assert bounded_mean_pvalue(x, 1.5) == 0.0


def test_bad_input_names_the_rule():
    with pytest.raises(ValueError, match="confidence"):
        bounded_mean_ci([0.5], confidence=1.5)
    with pytest.raises(ValueError, match="within bounds"):
        bounded_mean_ci([1.5])
    with pytest.raises(ValueError, match="bounds"):
        t_interval([0.5, 0.6], bounds=(1, 0))
    assert bounded_mean_ci([]).n == 0 and np.isnan(t_interval([0.5]).low)
