"""Intervals for the mean of a bounded outcome (accuracy in [0, 1], a paired difference in
[-1, 1]) that never leave its range.

Two intervals, chosen by what their coverage was measured to be (tests/reports/
test_report_intervals.py simulates n = 3, 5, 10 runs; normal-ish and bimodal accuracies):

- `bounded_mean_ci`, the **accuracy interval of the report**: Anderson's (1969) distribution-free
  interval. With the exact one-sided Kolmogorov–Smirnov quantile ε (scipy.stats.ksone, n runs,
  α/2 per side), the true CDF lies within ε of the empirical one on either side; the interval's
  ends are the means of the extreme CDFs in that band: move ε of probability mass from the
  largest runs to the lower bound of the range (low end) or from the smallest runs to the upper
  bound (high end). Coverage ≥ 1 − α for *every* distribution on the range, bimodal ones
  included (simulated ≥ 0.999 everywhere): the price of that guarantee is width (≈ 0.72 at
  n = 3, 0.43 at n = 10), which is honest — three runs cannot exclude a mode they did not hit.
- `t_interval`: Student's t, clipped to the range (the mean lies in it, so clipping loses no
  coverage). Nominal for normal-ish runs (simulated 0.94–0.95) but it under-covers bimodal cells
  (0.75 at n = 3 for a 50/50 mixture of 0.5 and 0.9; 0.49 when one run in five collapses),
  because three runs that all landed in one mode look tight. Used for paired differences, where
  the p-value of an exact test (not the interval) carries the verdict.

Neither scipy nor statsmodels implements Anderson's interval; it is written here (a dozen lines)
on scipy's exact KS distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = ["MeanCI", "bounded_mean_bounds", "bounded_mean_ci", "bounded_mean_pvalue", "t_interval"]


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN below 2 values
    low: float
    high: float


def _check(confidence: float, bounds: tuple[float, float]) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"`0 < confidence < 1` must hold, but got confidence={confidence}")
    if not bounds[0] < bounds[1]:
        raise ValueError(f"`bounds[0] < bounds[1]` must hold, but got bounds={bounds}")


def _finite(values) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


def _std(a: np.ndarray) -> float:
    # a constant sample has spread 0, not the 1e-17 of floating-point cancellation
    return 0.0 if np.all(a == a[0]) else float(a.std(ddof=1))


def t_interval(
    values, confidence: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)
) -> MeanCI:
    """mean ± t_{(1+c)/2, n−1} · s/√n over the finite values, clipped to `bounds`.
    n = 0 gives all NaN; n = 1 the mean with NaN spread and interval."""
    _check(confidence, bounds)
    a = _finite(values)
    if a.size == 0:
        return MeanCI(0, np.nan, np.nan, np.nan, np.nan)
    mean = float(a.mean())
    if a.size == 1:
        return MeanCI(1, mean, np.nan, np.nan, np.nan)
    std = _std(a)
    half = float(stats.t.ppf((1 + confidence) / 2, a.size - 1)) * std / np.sqrt(a.size)
    low, high = np.clip([mean - half, mean + half], *bounds)
    return MeanCI(a.size, mean, std, float(low), float(high))


def _trimmed_means(ascending: np.ndarray, eps: np.ndarray | float) -> np.ndarray:
    """Mean of each row of (R, n) values in [0, 1], sorted ascending, after moving `eps` of
    probability mass from the largest values to 0: the smallest mean in the KS band."""
    n = ascending.shape[1]
    cum = np.arange(1, n + 1) / n  # mass of the top-k values, largest first
    keep = np.clip(cum[None, :] - np.reshape(eps, (-1, 1)), 0.0, 1.0 / n)  # (R, n)
    return (ascending[:, ::-1] * keep).sum(axis=1)


def bounded_mean_bounds(
    samples, confidence: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Anderson's interval for each row of `samples` (R, n), all finite and inside `bounds`:
    arrays (low, high) of length R. Vectorised for simulation; see bounded_mean_ci."""
    _check(confidence, bounds)
    x = np.asarray(samples, dtype=float)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"`samples` must be a 2-D array (R, n ≥ 1), but got shape {x.shape}")
    lo, hi = bounds
    if not np.all(np.isfinite(x)) or x.min() < lo or x.max() > hi:
        raise ValueError(f"every value must be finite and within bounds={bounds}")
    u = np.sort((x - lo) / (hi - lo), axis=1)
    eps = float(stats.ksone.ppf(1 - (1 - confidence) / 2, x.shape[1]))
    low = _trimmed_means(u, eps)
    high = 1.0 - _trimmed_means(np.sort(1.0 - u, axis=1), eps)
    return lo + (hi - lo) * low, lo + (hi - lo) * high


def bounded_mean_ci(
    values, confidence: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)
) -> MeanCI:
    """Mean, sample std and Anderson's distribution-free interval over the finite values (which
    must lie within `bounds`). n = 0 gives all NaN."""
    _check(confidence, bounds)
    a = _finite(values)
    if a.size == 0:
        return MeanCI(0, np.nan, np.nan, np.nan, np.nan)
    low, high = bounded_mean_bounds(a[None, :], confidence, bounds)
    std = _std(a) if a.size > 1 else np.nan
    return MeanCI(a.size, float(a.mean()), std, float(low[0]), float(high[0]))


def bounded_mean_pvalue(values, target: float, bounds: tuple[float, float] = (0.0, 1.0)) -> float:
    """Two-sided p-value of `mean = target` that agrees with bounded_mean_ci: the smallest α at
    which the (1 − α) interval excludes `target`, 2 · P(D_n⁺ ≥ ε*) where ε* is the band width
    at which the interval's end reaches the target. NaN without values."""
    a = _finite(values)
    if a.size == 0:
        return np.nan
    lo, hi = bounds
    u = np.sort((a - lo) / (hi - lo))[None, :]
    t = (target - lo) / (hi - lo)
    mean = float(u.mean())
    if t == mean:
        return 1.0
    if t < mean:

        def gap(e: float) -> float:
            return float(_trimmed_means(u, e)[0]) - t
    else:
        flipped = np.sort(1.0 - u, axis=1)

        def gap(e: float) -> float:
            return t - (1.0 - float(_trimmed_means(flipped, e)[0]))

    if gap(1.0) > 0:  # even the widest band keeps the target out
        return 0.0
    eps = optimize.brentq(gap, 0.0, 1.0, xtol=1e-12)
    return float(min(1.0, 2 * stats.ksone.sf(eps, a.size)))
