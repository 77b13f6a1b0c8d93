"""Claim measures that compare settings or outcomes other than accuracy (see reports.claims):
the accuracy at the best setting found, equivalence with an anchor, paired differences of the
final training loss or the sharpness, and a swept parameter's effect.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from reports.claim_measures import (
    ClaimInputs,
    Measurement,
    PairedEffect,
    _no_data,
    accuracy_measurement,
    protocol_mask,
    reference_cell,
    setting_text,
)
from reports.data import FIXED, hint, sweep_values
from reports.intervals import t_interval
from reports.stats import detectable_effect, wilcoxon_test

__all__ = ["AccuracyBest", "Equivalence", "PairedOutcome", "SweepEffect"]

_PP = 100.0


@dataclass(frozen=True)
class AccuracyBest:
    """The reference's test accuracy on `dataset` at `depth` at the setting (sweep value or tuned
    study, at the largest number of epochs present) with the best mean VALIDATION accuracy."""

    dataset: str
    depth: int
    target: float

    def rule(self, reference: str) -> str:
        return (
            f"{reference} on {self.dataset}, depth {self.depth}: among its settings (swept values, "
            "tuned) at the largest epochs present, the one with the highest mean validation "
            "accuracy (failures at chance) — never the test split; its test accuracy judged "
            f"as the stated row: Anderson's 95% interval and p-value against "
            f"{100 * self.target:g}%, supported if p_holm < 0.05 and the interval lies above, not "
            "supported if below, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        cell = reference_cell(inputs, self.dataset, self.depth)
        if cell.empty:
            return _no_data(
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


@dataclass(frozen=True)
class Equivalence:
    """The reference and `variant` are within ±`margin_pp` (chance-normalised pp), pooled over
    cells as PairedEffect: two one-sided t-tests over the cell means (TOST)."""

    variant: str
    margin_pp: float = 5.0
    protocol: str | None = FIXED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol or 'any'} protocol, {reference} − {self.variant} in "
            "chance-normalised pp, mean over (dataset, depth) cells with a t-interval; "
            f"equivalence margin ±{self.margin_pp:g} pp, TOST p-value over the cell means: "
            "supported if p_holm < 0.05 and the 95% interval lies inside the margin; when the "
            "estimate lies outside the margin the p-value is the one-sided t-test of exceeding "
            "it, and the claim is not supported if p_holm < 0.05 and the interval lies wholly "
            "outside; else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        m = PairedEffect(self.variant, self.protocol).measure(inputs)
        if m.verdict is not None:
            return m
        k, sd, est, margin = m.n, _sd_from(m), m.estimate, self.margin_pp
        p, test = np.nan, "TOST"
        if k >= 2 and np.isfinite(sd) and sd > 0:
            se = sd / np.sqrt(k)
            if est < -margin:  # the data point to non-equivalence: test exceeding the margin
                p, test = float(stats.t.cdf((est + margin) / se, k - 1)), "beyond the margin"
            elif est > margin:
                p, test = float(stats.t.sf((est - margin) / se, k - 1)), "beyond the margin"
            else:
                p_low = stats.t.sf((est + margin) / se, k - 1)
                p_high = stats.t.sf((margin - est) / se, k - 1)
                p = float(max(p_low, p_high))
        return dataclasses.replace(
            m,
            p_value=p,
            band=margin,
            measured=f"{m.measured}; margin ±{margin:g} pp, {test} p={p:.3g}",
        )


def _sd_from(m: Measurement) -> float:
    """The between-cell sd behind a t-interval (half-width = t * sd / sqrt(k))."""
    if m.n < 2:
        return np.nan
    half = (m.ci_high - m.ci_low) / 2
    return float(half * np.sqrt(m.n) / stats.t.ppf(0.975, m.n - 1))


def _pool(cells: pd.DataFrame, column: str, bounds: tuple[float, float]) -> dict:
    values = cells[column].to_numpy(float)
    ci = t_interval(values, bounds=bounds)
    test = wilcoxon_test(values)
    return {"mean": ci.mean, "low": ci.low, "high": ci.high, "sd": ci.std, "k": len(values),
            "test": test.test, "p": test.pvalue}  # fmt: skip


def _power(k: int, sd: float, unit: str) -> str:
    mde = detectable_effect(k, sd)
    if k < 6:
        return f"{k} cells cannot reach p < 0.05 with Wilcoxon's test (minimum {2 / 2**k:.3g})"
    return f"smallest effect detectable over {k} cells ≈{mde:.1f} {unit} (80% power, α = 0.05)"


@dataclass(frozen=True)
class PairedOutcome:
    """Reference vs `variant` on a per-run outcome where lower is the claim's "better" (final
    training loss, sharpness): per pair the symmetric relative difference
    (variant − reference) / (|variant| + |reference|) in %, positive when the reference is lower;
    cell means pooled over (dataset, depth) cells."""

    variant: str
    column: str
    protocol: str | None = FIXED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol or 'any'} protocol, pairs of {reference} and {self.variant} runs "
            f"that both finished ok: 100·({self.variant} − {reference})/(|{self.variant}| + "
            f"|{reference}|) of `{self.column}` (positive: {reference} lower), mean per (dataset, "
            "depth) cell, t-interval over cells, Wilcoxon signed-rank test on the cell means: "
            "supported if p_holm < 0.05 and the interval lies above 0, not supported if below, "
            "else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        r = inputs.runs
        r = r[protocol_mask(r["source"], self.protocol) & r["survived"]]
        r = r[np.isfinite(pd.to_numeric(r[self.column], errors="coerce").astype(float))]
        keys = ["dataset", "depth", "seed", "data_seed", "source", "epochs"]
        a = r[r["variant"] == inputs.reference].drop_duplicates(keys, keep="last")
        b = r[r["variant"] == self.variant].drop_duplicates(keys, keep="last")
        pairs = a.merge(b, on=keys, suffixes=("_r", "_v"))
        if pairs.empty:
            return _no_data(
                f"no pairs of {inputs.reference!r} and {self.variant!r} runs with `{self.column}` "
                f"({self.protocol} protocol) — {hint(inputs.meta, 'runs')}"
            )
        ref = pairs[f"{self.column}_r"].astype(float)
        var = pairs[f"{self.column}_v"].astype(float)
        denom = (ref.abs() + var.abs()).replace(0.0, np.nan)
        pairs["rel"] = (_PP * (var - ref) / denom).fillna(0.0)
        cells = pairs.groupby(["dataset", "depth", "source", "epochs"])["rel"].mean().reset_index()
        pooled = _pool(cells, "rel", (-_PP, _PP))
        measured = (
            f"({self.variant} − {inputs.reference}) / sum of magnitudes of {self.column}: "
            f"{pooled['mean']:+.1f}% [{pooled['low']:+.1f}, {pooled['high']:+.1f}] over "
            f"{pooled['k']} cells ({len(pairs)} pairs; median {self.column}: "
            f"{inputs.reference} {ref.median():.3g}, {self.variant} {var.median():.3g}); "
            f"{pooled['test']} p={pooled['p']:.3g}"
        )
        sel = r[r["variant"].isin([inputs.reference, self.variant])]
        return Measurement(
            measured, f"{self.protocol} protocol: {setting_text(sel)}", pooled["k"],
            pooled["mean"], pooled["low"], pooled["high"], pooled["p"],
            "% (symmetric relative difference)", 0.0, _power(pooled["k"], pooled["sd"], "%"),
        )  # fmt: skip


@dataclass(frozen=True)
class SweepEffect:
    """The reference at `param` = `high` minus the reference at `param` = `low`, paired by
    (dataset, depth, seed, data split, epochs) in the fixed protocol; chance-normalised test
    accuracy (failures at chance), pooled over (dataset, depth, epochs) cells."""

    param: str
    high: float
    low: float

    def rule(self, reference: str) -> str:
        return (
            f"fixed protocol, {reference} at {self.param}={self.high:g} − {reference} at "
            f"{self.param}={self.low:g} (the sweep), paired by (seed, data split), failures at "
            "chance; chance-normalised pp, mean per (dataset, depth, epochs) cell, t-interval "
            "over cells, Wilcoxon signed-rank test on the cell means: supported if p_holm < "
            "0.05 and the interval lies above 0, not supported if below, else inconclusive"
        )

    def _at(self, r: pd.DataFrame, value: float) -> pd.DataFrame:
        hp = f"hp_{self.param}"
        if r.empty or hp not in r.columns:
            return r.iloc[0:0]
        only = r["sweep"].map(lambda t: set(sweep_values(t)) <= {self.param}).astype(bool)
        at = np.isclose(pd.to_numeric(r[hp], errors="coerce").astype(float), value)
        return r[only & at]

    def measure(self, inputs: ClaimInputs) -> Measurement:
        r = inputs.runs
        base = r["source"].astype(str).str.split("|").str[0]
        r = r[(r["variant"] == inputs.reference) & protocol_mask(base, FIXED)]
        keys = ["dataset", "depth", "seed", "data_seed", "epochs"]
        hi = self._at(r, self.high).drop_duplicates(keys, keep="last")
        lo = self._at(r, self.low).drop_duplicates(keys, keep="last")
        pairs = hi.merge(lo, on=keys, suffixes=("_h", "_l"))
        if pairs.empty:
            return _no_data(
                f"no {inputs.reference} runs at both {self.param}={self.high:g} and "
                f"{self.param}={self.low:g} — run a grid with [sweep] {self.param} "
                "(`landau grid standard`)"
            )
        pairs["diff"] = _PP * (pairs["normalised_h"] - pairs["normalised_l"])
        cells = pairs.groupby(["dataset", "depth", "epochs"])["diff"].mean().reset_index()
        pooled = _pool(cells, "diff", (-_PP, _PP))
        per_cell = "; ".join(
            f"{c.dataset} d{c.depth} {c.epochs} ep: {c['diff']:+.1f}" for _, c in cells.iterrows()
        )
        measured = (
            f"{self.param}={self.high:g} − {self.param}={self.low:g}: {pooled['mean']:+.1f} pp "
            f"[{pooled['low']:+.1f}, {pooled['high']:+.1f}] over {pooled['k']} cells "
            f"({len(pairs)} pairs; {per_cell}); {pooled['test']} p={pooled['p']:.3g}"
        )
        return Measurement(
            measured, f"fixed protocol, sweep of {self.param}", pooled["k"], pooled["mean"],
            pooled["low"], pooled["high"], pooled["p"], "pp (chance-normalised)", 0.0,
            _power(pooled["k"], pooled["sd"], "pp"),
        )  # fmt: skip
