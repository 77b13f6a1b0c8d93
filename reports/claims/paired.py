"""Paired-effect claims ("the quartic term helps", "lower final loss than SGD").

Estimand: the typical paired difference reference − ablation over datasets (chance-normalised
pp of test accuracy, failures at chance; or the symmetric relative difference of an outcome).
Procedure: pairs share (dataset, depth, seed, data split, setting); datasets are the units
(reports.claims.units: Hodges–Lehmann estimate, Wilcoxon-inverted interval and signed-rank
p-value, per-dataset verdicts and heterogeneity). Family: mechanism claims, each tested once
under its declared protocol; the other protocol is a sensitivity row outside the family.
Survivors-only estimates are shown as conditional on both runs finishing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.claims.base import (
    ALPHA,
    ClaimInputs,
    Measurement,
    no_data,
    protocol_mask,
    setting_text,
)
from reports.claims.units import Pooled, pool_datasets
from reports.data import FIXED, TUNED, hint, sweep_values
from reports.stats import detectable_effect

__all__ = ["PairedEffect", "PairedOutcome", "SweepEffect", "effect_pairs", "paired_measurement"]

_PP = 100.0
PROCEDURE = (
    "datasets as units (each the mean over its depth/epochs cells): Hodges–Lehmann estimate "
    "with the Wilcoxon-inverted 95% interval and the exact signed-rank p-value"
)


def effect_pairs(inputs: ClaimInputs, variant: str, protocol: str | None) -> pd.DataFrame:
    """Pairs of the reference and `variant` (reports.contributions.paired_runs) under
    `protocol`, on the setting with the most datasets (then pairs), each (dataset, depth) at
    its largest epochs; `diff` = 100·(normalised reference − normalised variant), pp."""
    pairs = inputs.pairs(variant)
    pairs = pairs[protocol_mask(pairs["source"], protocol)]
    if pairs.empty:
        return pairs.assign(diff=pd.Series(dtype=float))
    size = pairs.groupby("source").agg(n_ds=("dataset", "nunique"), n=("dataset", "size"))
    source = min(size.index, key=lambda s: (-size.loc[s, "n_ds"], -size.loc[s, "n"], s))
    p = pairs[pairs["source"] == source]
    top = p.groupby(["dataset", "depth"])["epochs"].transform("max")
    p = p[p["epochs"] == top].copy()
    p["diff"] = np.round(_PP * (p["normalised_reference"] - p["normalised_variant"]), 9)
    return p


def _power(pooled: Pooled, unit: str) -> str:
    if pooled.min_p >= ALPHA:
        return (
            f"{pooled.k} datasets cannot reach p < 0.05 (the exact minimum is {pooled.min_p:.3g})"
        )
    sd = float(pooled.datasets["estimate"].std(ddof=1)) if pooled.k > 1 else np.nan
    mde = detectable_effect(pooled.k, sd)
    return (
        f"smallest effect detectable over {pooled.k} datasets ≈{mde:.1f} {unit} (t approximation)"
    )


def paired_measurement(
    pooled: Pooled, label: str, unit: str, setting: str, extra: str = ""
) -> Measurement:
    """The Measurement of a pooled paired claim (differences in the claim's direction)."""
    est, lo, hi = pooled.estimate, pooled.low, pooled.high
    short = "pp" if unit.startswith("pp") else "%"
    breakdown = pooled.breakdown()
    measured = (
        f"{label} = {est:+.1f} {short} [{lo:+.1f}, {hi:+.1f}] over {pooled.k} datasets "
        f"(Hodges–Lehmann, Wilcoxon p={pooled.pvalue:.3g}, smallest possible "
        f"{pooled.min_p:.3g}); {breakdown}; per dataset: {pooled.per_dataset()}{extra}"
    )
    reading = f"{label} {est:+.1f} {short} [{lo:+.1f}, {hi:+.1f}]; {breakdown}"
    return Measurement(
        measured, setting, pooled.k, est, lo, hi, pooled.pvalue, unit, 0.0, _power(pooled, short),
        units=f"{pooled.k} datasets", reading=reading, min_p=pooled.min_p,
        dataset_dependent=pooled.dependent,
    )  # fmt: skip


@dataclass(frozen=True)
class PairedEffect:
    """Reference − `variant` in chance-normalised test accuracy, datasets as units: the
    component the variant removes or replaces helps when the effect is positive."""

    variant: str
    protocol: str | None = None  # "fixed" (preset/defaults, unswept) or "tuned" (studies)
    favours_variant: bool = False  # the claim is that the variant does better

    def rule(self, reference: str) -> str:
        a, b = (self.variant, reference) if self.favours_variant else (reference, self.variant)
        return (
            f"{self.protocol or 'any'} protocol, {a} − {b} paired by (seed, data split), "
            f"failures at chance, chance-normalised pp; {PROCEDURE}: supported if p_holm < 0.05 "
            "and the interval lies above 0, not supported if below 0, dataset-dependent if the "
            "datasets significantly disagree, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        pairs = effect_pairs(inputs, self.variant, self.protocol)
        if pairs.empty:
            which = f" under the {self.protocol} protocol" if self.protocol else ""
            how = "`landau run standard`" if self.protocol == TUNED else hint(inputs.meta, "runs")
            return no_data(
                f"no runs of {inputs.reference!r} and {self.variant!r} on the same (dataset, "
                f"depth, seed, data split, setting){which} — {how}"
            )
        cell = ["depth", "epochs"]
        if self.favours_variant:  # in the claim's direction: variant − reference
            pairs = pairs.assign(diff=-pairs["diff"])
        pooled = pool_datasets(pairs, "diff", cell)
        ok = pairs[pairs["both_survived"]]
        n_failed = int((~pairs["both_survived"]).sum())
        extra = f"; {len(pairs)} pairs, {n_failed} with a failed/diverged run counted at chance"
        if not ok.empty:
            s = pool_datasets(ok, "diff", cell)
            extra += (
                f"; conditional on both runs finishing (survivors only): {s.estimate:+.1f} pp "
                f"[{s.low:+.1f}, {s.high:+.1f}], p={s.pvalue:.3g}"
            )
        a, b = (self.variant, inputs.reference) if self.favours_variant else (
            inputs.reference, self.variant)  # fmt: skip
        r = inputs.runs
        keys = set(zip(pairs["dataset"], pairs["depth"], pairs["epochs"], strict=True))
        in_pairs = pd.Series(
            [k in keys for k in zip(r["dataset"], r["depth"], r["epochs"], strict=True)],
            index=r.index, dtype=bool,
        )  # fmt: skip
        sel = r[r["variant"].isin([a, b]) & (r["source"] == pairs["source"].iloc[0]) & in_pairs]
        setting = f"{self.protocol or 'any'} protocol: {setting_text(sel)}"
        return paired_measurement(pooled, f"{a} − {b}", "pp (chance-normalised)", setting, extra)


@dataclass(frozen=True)
class PairedOutcome:
    """Reference vs `variant` on a per-run outcome where lower is the claim's "better" (final
    training loss, sharpness): per pair of runs that both finished ok, the symmetric relative
    difference 100·(variant − reference) / (|variant| + |reference|), positive when the
    reference is lower; datasets as units."""

    variant: str
    column: str
    protocol: str | None = FIXED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol or 'any'} protocol, pairs of {reference} and {self.variant} runs "
            f"that both finished ok: 100·({self.variant} − {reference})/(|{self.variant}| + "
            f"|{reference}|) of `{self.column}` (positive: {reference} lower); {PROCEDURE}: "
            "supported if p_holm < 0.05 and the interval lies above 0, not supported if below, "
            "dataset-dependent if the datasets significantly disagree, else inconclusive"
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
            return no_data(
                f"no pairs of {inputs.reference!r} and {self.variant!r} runs with `{self.column}` "
                f"({self.protocol} protocol) — {hint(inputs.meta, 'runs')}"
            )
        ref = pairs[f"{self.column}_r"].astype(float)
        var = pairs[f"{self.column}_v"].astype(float)
        denom = (ref.abs() + var.abs()).replace(0.0, np.nan)
        pairs["rel"] = (_PP * (var - ref) / denom).fillna(0.0)
        pooled = pool_datasets(pairs, "rel", ["depth", "source", "epochs"])
        extra = (
            f"; {len(pairs)} pairs; median {self.column}: {inputs.reference} {ref.median():.3g}, "
            f"{self.variant} {var.median():.3g}"
        )
        sel = r[r["variant"].isin([inputs.reference, self.variant])]
        return paired_measurement(
            pooled, f"({self.variant} − {inputs.reference}) / sum of magnitudes of {self.column}",
            "% (symmetric relative difference)", f"{self.protocol} protocol: {setting_text(sel)}",
            extra,
        )  # fmt: skip


@dataclass(frozen=True)
class SweepEffect:
    """The reference at `param` = `high` minus the reference at `param` = `low`, paired by
    (dataset, depth, seed, data split, epochs) in the fixed protocol; chance-normalised test
    accuracy (failures at chance); datasets as units (a dataset swept at two lengths counts
    once, its lengths averaged inside it)."""

    param: str
    high: float
    low: float

    def rule(self, reference: str) -> str:
        return (
            f"fixed protocol, {reference} at {self.param}={self.high:g} − {reference} at "
            f"{self.param}={self.low:g} (the sweep), paired by (seed, data split), failures at "
            f"chance, chance-normalised pp; {PROCEDURE}: supported if p_holm < 0.05 and the "
            "interval lies above 0, not supported if below, else inconclusive"
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
            return no_data(
                f"no {inputs.reference} runs at both {self.param}={self.high:g} and "
                f"{self.param}={self.low:g} — run a grid with [sweep] {self.param} "
                "(`landau grid standard`)"
            )
        pairs["diff"] = _PP * (pairs["normalised_h"] - pairs["normalised_l"])
        pooled = pool_datasets(pairs, "diff", ["depth", "epochs"])
        extra = f"; {len(pairs)} pairs"
        return paired_measurement(
            pooled, f"{self.param}={self.high:g} − {self.param}={self.low:g}",
            "pp (chance-normalised)", f"fixed protocol, sweep of {self.param}", extra,
        )  # fmt: skip
