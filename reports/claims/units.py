"""Datasets as the units of a pooled claim.

Runs of one dataset share its data, splits and seeds across depths and epochs, so they are
repetitions inside one unit, not independent units: a dataset's value is the mean over its
(depth, epochs) cells of the paired difference. Over the k datasets the pooled procedure is
Wilcoxon's signed-rank test with its own estimate and interval: the Hodges–Lehmann estimate (the
median of the Walsh averages) and the interval of the shifts the test does not reject (Walsh
averages at the exact signed-rank critical values). One procedure gives all three, needs no
normality across a handful of unlike datasets, and one extreme dataset moves it little. Its
smallest p-value is 2/2^k: 6 datasets are needed for p < 0.05.

Beside it, each dataset's own verdict: the exact sign-flip test over its (seed, data split)
repetitions (each averaged over the dataset's cells), Holm within the claim, "helps" / "hurts"
/ "undetermined"; and a Kruskal–Wallis test of whether the datasets' effects differ. A claim
whose datasets significantly disagree (some help, some hurt, heterogeneity p < 0.05) reads
"dataset-dependent".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from reports.claims.base import ALPHA
from reports.stats import holm, sign_flip_test, wilcoxon_test

__all__ = ["HELPS", "HURTS", "Pooled", "UNDECIDED", "hodges_lehmann", "pool_datasets"]

HELPS, HURTS, UNDECIDED = "helps", "hurts", "undetermined"
REPS = ["seed", "data_seed"]


@cache
def _signed_rank_cdf(k: int) -> np.ndarray:
    """P(W+ ≤ w) for w = 0..k(k+1)/2 under the null, without ties (subset sums of 1..k)."""
    counts = np.zeros(k * (k + 1) // 2 + 1)
    counts[0] = 1.0
    for r in range(1, k + 1):
        counts[r:] = counts[r:] + counts[:-r].copy()
    return np.cumsum(counts) / 2.0**k


def hodges_lehmann(values, bounds: tuple[float, float] = (-100.0, 100.0), alpha: float = ALPHA):
    """(estimate, low, high): the median of the Walsh averages and the exact 1 − alpha interval
    inverted from the signed-rank test (the no-ties null distribution, as R's wilcox.test);
    the metric's `bounds` where k values cannot exclude anything (k ≤ 5 at 95%)."""
    d = np.sort(np.asarray(values, dtype=float))
    k = d.size
    if k == 0:
        return np.nan, np.nan, np.nan
    i, j = np.triu_indices(k)
    walsh = np.sort((d[i] + d[j]) / 2.0)
    est = float(np.round(np.median(walsh), 9))  # 0, not 9e-18, for equal differences
    below = np.flatnonzero(_signed_rank_cdf(k) <= alpha / 2)
    if below.size == 0:
        return est, bounds[0], bounds[1]
    c = int(below[-1])
    return est, float(walsh[c]), float(walsh[walsh.size - 1 - c])


@dataclass(frozen=True)
class Pooled:
    k: int
    estimate: float
    low: float
    high: float
    pvalue: float
    test: str
    datasets: pd.DataFrame  # dataset, estimate, n_reps, p_value, p_holm, verdict
    het_p: float

    @property
    def min_p(self) -> float:
        return min(1.0, 2.0 / 2.0**self.k) if self.k else np.nan

    def count(self, verdict: str) -> int:
        return int((self.datasets["verdict"] == verdict).sum())

    @property
    def dependent(self) -> bool:
        """Some datasets significantly help, others significantly hurt, and the heterogeneity
        test rejects equal effects."""
        return self.count(HELPS) > 0 and self.count(HURTS) > 0 and bool(self.het_p < ALPHA)

    def breakdown(self) -> str:
        h, m, r = self.count(HELPS), self.count(HURTS), self.count(UNDECIDED)
        het = f"{self.het_p:.2g}" if np.isfinite(self.het_p) else "n/a"
        return (
            f"helps on {h} dataset{'s' * (h != 1)}, hurts on {m}, undetermined on {r} "
            f"(heterogeneity p={het})"
        )

    def per_dataset(self) -> str:
        return "; ".join(
            f"{d.dataset} {d.estimate:+.1f} ({d.verdict}, p_holm={d.p_holm:.2g})"
            for d in self.datasets.itertuples()
        )


def _heterogeneity(groups: list[np.ndarray]) -> float:
    groups = [g for g in groups if g.size]
    if len(groups) < 2:
        return np.nan
    if np.ptp(np.concatenate(groups)) == 0:  # every value identical: nothing differs
        return 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        p = float(stats.kruskal(*groups).pvalue)
    return p if np.isfinite(p) else 1.0


def pool_datasets(frame: pd.DataFrame, value: str, cell: list[str]) -> Pooled:
    """Pool `value` of `frame` (one row per paired repetition: dataset, the `cell` keys inside a
    dataset, seed, data_seed) over datasets, as the module docstring says."""
    f = frame[np.isfinite(frame[value].astype(float))]
    cells = f.groupby(["dataset", *cell], sort=True)[value].mean()
    units = cells.groupby(level="dataset", sort=True).mean()
    est, low, high = hodges_lehmann(units.to_numpy(float))
    test = wilcoxon_test(units.to_numpy(float))
    rows, groups = [], []
    for ds, g in f.groupby("dataset", sort=True):
        reps = g.groupby(REPS, dropna=False)[value].mean().to_numpy(float)
        groups.append(reps)
        rows.append({"dataset": ds, "estimate": float(units[ds]), "n_reps": reps.size,
                     "p_value": sign_flip_test(reps).pvalue})  # fmt: skip
    datasets = pd.DataFrame(rows, columns=["dataset", "estimate", "n_reps", "p_value"])
    datasets["p_holm"] = holm(datasets["p_value"].to_numpy(float)) if rows else []
    sig = datasets["p_holm"] < ALPHA
    datasets["verdict"] = np.where(
        sig & (datasets["estimate"] > 0), HELPS, np.where(sig & (datasets["estimate"] < 0), HURTS,
                                                          UNDECIDED)
    )  # fmt: skip
    return Pooled(
        len(units), est, low, high, test.pvalue, test.test, datasets, _heterogeneity(groups)
    )
