"""Tests and corrections the report uses, from scipy.stats and statsmodels: the exact sign-flip
test of paired differences, the Wilcoxon signed-rank test across cells, Holm's correction, the
smallest effect a test could have detected, and the Pareto front of a cost-accuracy plot.
"""

from __future__ import annotations

import gc
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

__all__ = [
    "PERMUTATION_RESAMPLES",
    "TestResult",
    "detectable_effect",
    "holm",
    "min_sign_flip_p",
    "pareto_front",
    "sign_flip_test",
    "wilcoxon_test",
]

# exact enumeration up to 2^16 sign patterns (16 pairs); beyond, this many random flips
PERMUTATION_RESAMPLES = 2**16
RANDOM_STATE = 0  # fixed, so a report is byte-identical when rebuilt


@dataclass(frozen=True)
class TestResult:
    test: str  # what ran, e.g. "sign-flip (exact, 6 pairs)", or "none (…)" when nothing could
    pvalue: float


def _finite(values) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


def min_sign_flip_p(n: int) -> float:
    """The smallest two-sided p-value an exact sign-flip test over n pairs can reach: 2 / 2^n."""
    return min(1.0, 2.0 / 2.0**n) if n > 0 else 1.0


def sign_flip_test(differences) -> TestResult:
    """Two-sided permutation test of mean(d) = 0 for paired differences d: under the null each
    difference is as likely to have either sign (scipy.stats.permutation_test with one sample,
    `permutation_type='samples'`, flips signs). Exact for n ≤ 16 pairs, else 2^16 random
    flips with a fixed random state. All-zero differences give p = 1; n < 1 no test."""
    d = _finite(differences)
    if d.size == 0:
        return TestResult("none (no pairs)", np.nan)
    if np.all(d == 0):
        return TestResult(f"sign-flip (all {d.size} differences zero)", 1.0)
    if d.size == 1:  # both signs are equally extreme: p = 2/2
        return TestResult("sign-flip (exact, 1 pair)", 1.0)
    exact = 2**d.size <= PERMUTATION_RESAMPLES
    res = stats.permutation_test(
        (d,),
        lambda x, axis: np.mean(x, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf if exact else PERMUTATION_RESAMPLES,
        alternative="two-sided",
        rng=np.random.default_rng(RANDOM_STATE),
    )
    kind = "exact" if exact else f"{PERMUTATION_RESAMPLES} random flips"
    return TestResult(f"sign-flip ({kind}, {d.size} pairs)", float(min(1.0, res.pvalue)))


def _signed_rank_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """Wilcoxon's W+: the sum of the ranks of |x| (midranks on ties) over positive x."""
    ranks = stats.rankdata(np.abs(x), axis=axis)
    return np.sum(ranks * (x > 0), axis=axis)


def wilcoxon_test(values) -> TestResult:
    """Two-sided Wilcoxon signed-rank test of symmetry about 0, by exact enumeration of the
    2^n sign patterns (scipy.stats.permutation_test with the signed-rank statistic; random
    flips with a fixed state above 16 values). Without ties this is scipy.stats.wilcoxon's exact
    test; with ties (midranks) it stays exact, where scipy would switch to a slow unvectorised
    permutation. Zeros are dropped (Wilcoxon's convention); all zeros give p = 1."""
    d = _finite(values)
    if d.size == 0:
        return TestResult("none (no cells)", np.nan)
    d = d[d != 0]
    if d.size == 0:
        return TestResult("Wilcoxon (all cells zero)", 1.0)
    if d.size == 1:  # both signs are equally extreme: p = 2/2
        return TestResult("Wilcoxon signed-rank (1 non-zero cell)", 1.0)
    exact = 2**d.size <= PERMUTATION_RESAMPLES
    res = stats.permutation_test(
        (d,),
        _signed_rank_sum,
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf if exact else PERMUTATION_RESAMPLES,
        alternative="two-sided",
        rng=np.random.default_rng(RANDOM_STATE),
    )
    return TestResult(f"Wilcoxon signed-rank ({d.size} cells)", float(min(1.0, res.pvalue)))


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels multipletests, method='holm') in the input order; NaN
    stays NaN and does not count towards the family size."""
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    keep = np.isfinite(p)
    if keep.sum() == 1:
        out[keep] = p[keep]
    elif keep.any():
        # statsmodels' Holm branch calls gc.collect(), ~0.1-0.5 s with a report's DataFrames
        # alive: frozen objects are skipped by it, and unfrozen right after
        gc.freeze()
        try:
            out[keep] = multipletests(p[keep], method="holm")[1]
        finally:
            gc.unfreeze()
    return out


def detectable_effect(n: int, sd: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest mean effect a two-sided one-sample t-test on n values with spread `sd` detects
    with probability `power` at level `alpha` (statsmodels TTestPower solved for the effect
    size, times sd). A normal approximation of the rank and permutation tests the report runs:
    read it as an order of magnitude. NaN when n < 2 or sd is not finite."""
    if n < 2 or not np.isfinite(sd):
        return np.nan
    if sd == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power)
    return float(np.asarray(d).ravel()[0]) * sd


def pareto_front(cost, value) -> np.ndarray:
    """Boolean mask of the points no other point dominates (lower-or-equal cost and higher value,
    or equal value and lower cost): the cost-accuracy front. Non-finite points are never on it."""
    c = np.asarray(cost, dtype=float).ravel()
    v = np.asarray(value, dtype=float).ravel()
    mask = np.zeros(c.size, dtype=bool)
    finite = np.flatnonzero(np.isfinite(c) & np.isfinite(v))
    # cheapest first; at equal cost the best value first, so it alone can join the front
    order = finite[np.lexsort((-v[finite], c[finite]))]
    best = -np.inf
    for i in order:
        if v[i] > best:
            mask[i] = True
            best = v[i]
    return mask
