"""Accuracy-target claims ("MNIST 92 % with one layer"): what a typical run reaches.

Estimand: the median test accuracy of the reference's runs (failures at chance), i.e. the
typical run. Procedure: the sign test of median = target (scipy.stats.quantile_test, p = 0.5)
and its inversion, the exact order-statistic 95% interval (`.confidence_interval()`): one
procedure for estimate, interval and p-value, valid for any distribution of runs (bimodal and
collapsing ones included) and, unlike an interval for the mean of a bounded variable, narrow
when the runs agree. Beside it: the share of runs reaching the target with its Clopper–Pearson
interval (scipy.stats.binomtest), the failure counts, and whether the median rounds to the
claim's whole percent. Family: the accuracy claims (Holm within it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from reports.claims.base import (
    ClaimInputs,
    Measurement,
    no_data,
    protocol_mask,
    reference_cell,
    setting_text,
)
from reports.data import FIXED, hint

__all__ = [
    "AccuracyBest",
    "AccuracyTarget",
    "MedianTest",
    "accuracy_measurement",
    "median_ranks",
    "median_test",
]

_PP = 100.0
_RANGE = (0.0, 100.0)  # an unbounded side of the interval is clipped to the metric's range


@dataclass(frozen=True)
class MedianTest:
    n: int
    median: float
    low: float  # exact order-statistic 95% interval, clipped to the metric's range
    high: float
    pvalue: float  # two-sided sign test of median = target
    reach: int  # runs at or above the target
    share_low: float  # Clopper–Pearson 95% interval of the share reaching it
    share_high: float


@cache
def median_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """0-based order statistics (l, u) of scipy's exact interval of the median for n values, or
    None when n values cannot give one at this confidence (n ≤ 5 at 95%): read from
    quantile_test on the ranks 0..n-1, so simulations use scipy's own choice."""
    ci = stats.quantile_test(np.arange(n, dtype=float), q=0.0, p=0.5).confidence_interval(
        confidence
    )
    if not (np.isfinite(ci.low) and np.isfinite(ci.high)):
        return None
    return int(ci.low), int(ci.high)


def median_test(values, target: float, bounds: tuple[float, float] = _RANGE) -> MedianTest:
    """The sign test of median = `target` over the finite `values` (percent by default), its
    exact interval (an unbounded side at `bounds`), and the share of values ≥ target with its
    Clopper–Pearson interval."""
    x = np.asarray(values, dtype=float)
    x = np.round(x[np.isfinite(x)], 9)  # percent from fractions: 92.0, not 91.99999999999999
    n = len(x)
    if n == 0:
        return MedianTest(0, np.nan, np.nan, np.nan, np.nan, 0, np.nan, np.nan)
    res = stats.quantile_test(x, q=target, p=0.5)
    ci = res.confidence_interval(0.95)
    low = float(ci.low) if np.isfinite(ci.low) else bounds[0]
    high = float(ci.high) if np.isfinite(ci.high) else bounds[1]
    reach = int(np.sum(x >= target))
    share = stats.binomtest(reach, n).proportion_ci(0.95, method="exact")
    return MedianTest(
        n, float(np.median(x)), low, high, float(res.pvalue), reach, share.low, share.high
    )


def _relation(value: float, target: float) -> str:
    return "above" if value > target else "below" if value < target else "at"


def accuracy_measurement(sel: pd.DataFrame, target: float, chosen: str = "") -> Measurement:
    """The median run of `sel` (failures at chance) against `target` (a fraction), as the module
    docstring says; `chosen` says how the setting was chosen."""
    acc = _PP * sel["accuracy"].dropna().to_numpy(float)
    t = _PP * target
    m = median_test(acc, t)
    counts = (
        f"{len(sel)} runs: {int(sel['survived'].sum())} ok "
        f"({int(sel['collapsed'].sum())} collapsed), "
        f"{int((sel['status'] == 'diverged').sum())} diverged, "
        f"{int((sel['status'] == 'failed').sum())} failed (counted at chance)"
    )
    shown = ", ".join(f"{a:.1f}" for a in acc)
    rounds = round(m.median) == round(t)
    rounding = f"rounds to {round(m.median):.0f}%" + (
        ", the claim's whole percent" if rounds else f", not {t:g}%"
    )
    measured = (
        f"{chosen}median run {m.median:.1f}% (runs: {shown}), 95% order-statistic interval "
        f"[{m.low:.1f}, {m.high:.1f}]%, sign-test p={m.pvalue:.3g} (smallest possible with "
        f"{m.n} runs: {min(1.0, 2.0 / 2.0**m.n):.3g}); {m.reach} of {m.n} runs "
        f"reach {t:g}% (share {100 * m.share_low:.0f}–{100 * m.share_high:.0f}%, "
        f"Clopper–Pearson); {counts}; the median {rounding}"
    )
    reading = (
        f"median run {m.median:.1f}% [{m.low:.1f}, {m.high:.1f}], {_relation(m.median, t)} "
        f"{t:g}% ({rounding}); {m.reach} of {m.n} runs reach it"
    )
    ranks = median_ranks(m.n)
    power = (
        f"{m.n} runs cannot bound the median at 95% (6 or more needed)"
        if ranks is None
        else f"the interval spans runs {ranks[0] + 1} to {ranks[1] + 1} of {m.n} in order"
    )
    return Measurement(
        measured, setting_text(sel), m.n, m.median, m.low, m.high, m.pvalue, "% accuracy", t,
        power, units=f"{m.n} runs", reading=reading, min_p=min(1.0, 2.0 / 2.0**m.n),
    )  # fmt: skip


@dataclass(frozen=True)
class AccuracyTarget:
    """The reference's median run on `dataset` at `depth` in runs of `source` (the largest
    `epochs` among them) reaches `target`."""

    dataset: str
    depth: int
    target: float
    source: str = "preset:blog"

    def rule(self, reference: str) -> str:
        return (
            f"{reference} on {self.dataset}, depth {self.depth}, {self.source} runs (failures at "
            f"chance): median run with its exact order-statistic 95% interval and sign-test "
            f"p-value against {100 * self.target:g}% (scipy quantile_test); supported if "
            f"p_holm < 0.05 and the interval lies above {100 * self.target:g}%, not supported if "
            "below, else inconclusive; beside it the share of runs reaching the target "
            "(Clopper–Pearson) and the failures"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        cell = reference_cell(inputs, self.dataset, self.depth)
        sel = cell[cell["params_source"] == self.source]
        note = ""
        if sel.empty and self.source == "preset:blog":
            # the stated values at fewer epochs than the blog's 100 (fixed protocol, unswept)
            sel = cell[protocol_mask(cell["source"], FIXED)]
            if not sel.empty:
                note = f"the blog's values at {int(sel['epochs'].max())} epochs, not 100; "
        if sel.empty:
            where = f"dataset={self.dataset!r}, variant={inputs.reference!r}, depth={self.depth}"
            return no_data(
                f"no runs with {where}, params_source={self.source!r} — {hint(inputs.meta, 'blog')}"
            )
        sel = sel[sel["epochs"] == sel["epochs"].max()]
        m = accuracy_measurement(sel, self.target)
        return dataclasses.replace(m, setting=note + m.setting)


@dataclass(frozen=True)
class AccuracyBest:
    """The reference's median run on `dataset` at `depth` at the setting (sweep value or tuned
    study, at the largest number of epochs present) with the best mean VALIDATION accuracy."""

    dataset: str
    depth: int
    target: float

    def rule(self, reference: str) -> str:
        return (
            f"{reference} on {self.dataset}, depth {self.depth}: among its settings (swept values, "
            "tuned) at the largest epochs present, the one with the highest mean validation "
            "accuracy (failures at chance) — never the test split; its test accuracy judged "
            f"as the stated row: median run, exact order-statistic 95% interval and sign-test "
            f"p-value against {100 * self.target:g}%, supported if p_holm < 0.05 and the interval "
            "lies above, not supported if below, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        cell = reference_cell(inputs, self.dataset, self.depth)
        if cell.empty:
            return no_data(
                f"no runs of {inputs.reference!r} on {self.dataset}, depth {self.depth} — "
                "run `landau grid claims`"
            )
        cell = cell[cell["epochs"] == cell["epochs"].max()]
        val = cell["val_accuracy"].where(cell["survived"], cell["chance_accuracy"])
        means = val.groupby(cell["source"]).mean().sort_values(ascending=False, kind="mergesort")
        best = means.index[0]
        shown = ", ".join(f"{s}: {100 * v:.1f}%" for s, v in means.items())
        chosen = f"best of {len(means)} setting(s) by mean validation accuracy ({shown}); "
        m = accuracy_measurement(cell[cell["source"] == best], self.target, chosen)
        return dataclasses.replace(m, setting=f"best on validation: {m.setting}")
