"""Small statistics used by the tables: t-intervals, Holm's step-down correction, bootstrap
intervals, the paired test, and the Pareto front of a cost-accuracy plot.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "MeanCI",
    "PairedTest",
    "bootstrap_mean_ci",
    "holm",
    "mean_ci",
    "paired_test",
    "pareto_front",
]

WILCOXON_MIN_N = 6  # below this the exact Wilcoxon test cannot reach p < 0.05 (two-sided)


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1)
    low: float
    high: float


def _finite(values) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


def mean_ci(values, confidence: float = 0.95) -> MeanCI:
    """Mean with the Student-t interval mean ± t_{(1+c)/2, n-1} · s/√n over the finite values.

    n = 0 gives all NaN; n = 1 gives the mean with NaN spread and interval.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"`0 < confidence < 1` must hold, but got confidence={confidence}")
    a = _finite(values)
    n = a.size
    if n == 0:
        return MeanCI(0, np.nan, np.nan, np.nan, np.nan)
    mean = float(a.mean())
    if n == 1:
        return MeanCI(1, mean, np.nan, np.nan, np.nan)
    std = float(a.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / np.sqrt(n)
    return MeanCI(n, mean, std, mean - half, mean + half)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order; NaNs stay NaN and do not count.

    With the m finite p-values sorted ascending, p_(1) ≤ … ≤ p_(m):
        p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)).
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def bootstrap_mean_ci(
    values, confidence: float = 0.95, random_state: int = 0, n_resamples: int = 9999
) -> tuple[float, float]:
    """Bootstrap interval of the mean (scipy.stats.bootstrap, BCa; percentile when BCa is
    undefined). Constant samples give the degenerate interval (v, v); fewer than 2 values NaN."""
    a = _finite(values)
    if a.size < 2:
        return (np.nan, np.nan)
    if np.all(a == a[0]):
        return (float(a[0]), float(a[0]))
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (a,),
                np.mean,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=method,
                rng=np.random.default_rng(random_state),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return (low, high)
    return (np.nan, np.nan)


@dataclass(frozen=True)
class PairedTest:
    test: str  # "wilcoxon", "paired t", or "none (…)" when no test applies
    pvalue: float


def paired_test(a, b) -> PairedTest:
    """Two-sided paired test of a against b (pairs with a non-finite member are dropped).

    Wilcoxon signed-rank when n ≥ 6 and the differences are not all zero, else the paired t-test;
    all-zero differences give p = 1 (no evidence of a difference); n < 2 gives no test.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have equal length, but got {a.size} and {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    d = a - b
    if d.size < 2:
        return PairedTest(f"none (n={d.size} < 2)", np.nan)
    if np.all(d == 0):
        return PairedTest("none (all differences zero)", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if d.size >= WILCOXON_MIN_N:
            return PairedTest("wilcoxon", float(stats.wilcoxon(d).pvalue))
        return PairedTest("paired t", float(stats.ttest_rel(a, b).pvalue))


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
