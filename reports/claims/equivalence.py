"""Equivalence claims ("performance comparable to a fully connected network", ±5 pp).

Estimand: the mean over datasets of reference − anchor in chance-normalised pp (each dataset's
value the mean over its depth cells, pairs at the same seed and split). Procedure: the paired
t-test family, datasets as units: TOST over ±margin (statsmodels ttost_paired) and its 90%
interval (the interval a 5% TOST inverts); where the estimate lies beyond the margin, the
one-sided t-test of exceeding it (scipy.stats.ttest_1samp), which the same 90% interval
inverts. Three-way verdict: equivalent (TOST p_holm < 0.05: the interval inside the margin),
not equivalent (the interval wholly outside it), else undetermined. Family: equivalence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.weightstats import ttost_paired

from reports.claims.base import ClaimInputs, Measurement, no_data, setting_text
from reports.claims.paired import effect_pairs
from reports.data import TUNED, hint

__all__ = ["Equivalence"]

_PP = 100.0


@dataclass(frozen=True)
class Equivalence:
    """The reference and `variant` are within ±`margin_pp` (chance-normalised pp)."""

    variant: str
    margin_pp: float = 5.0
    protocol: str | None = TUNED

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol or 'any'} protocol, {reference} − {self.variant} in "
            "chance-normalised pp, datasets as units (each the mean over its depths); TOST over "
            f"±{self.margin_pp:g} pp (paired t-tests) with its 90% interval: equivalent if "
            "p_holm < 0.05 and the interval lies inside the margin, not equivalent if it lies "
            "wholly outside (one-sided t-test of exceeding the margin), else undetermined"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        pairs = effect_pairs(inputs, self.variant, self.protocol)
        if pairs.empty:
            return no_data(
                f"no runs of {inputs.reference!r} and {self.variant!r} on the same (dataset, "
                f"depth, seed, data split) under the {self.protocol} protocol — "
                f"{hint(inputs.meta, 'runs')}"
            )
        cols = ["normalised_reference", "normalised_variant"]
        cells = pairs.groupby(["dataset", "depth", "epochs"])[cols].mean()
        units = _PP * cells.groupby(level="dataset").mean()
        ref, anc = units[cols[0]].to_numpy(float), units[cols[1]].to_numpy(float)
        d, k, margin = ref - anc, len(units), self.margin_pp
        est = float(d.mean())
        if k < 2 or np.std(d) == 0:
            lo = hi = est
            p, test = np.nan, f"no test over {k} dataset(s) without spread"
        else:
            half = stats.t.ppf(0.95, k - 1) * d.std(ddof=1) / np.sqrt(k)
            lo, hi = est - half, est + half
            if est < -margin:
                p = float(stats.ttest_1samp(d, -margin, alternative="less").pvalue)
                test = "one-sided t-test below −margin"
            elif est > margin:
                p = float(stats.ttest_1samp(d, margin, alternative="greater").pvalue)
                test = "one-sided t-test above +margin"
            else:
                p, test = float(ttost_paired(ref, anc, -margin, margin)[0]), "TOST"
        per = "; ".join(f"{ds} {v:+.1f}" for ds, v in zip(units.index, d, strict=True))
        measured = (
            f"{inputs.reference} − {self.variant} = {est:+.1f} pp, 90% interval [{lo:+.1f}, "
            f"{hi:+.1f}] over {k} datasets ({per}); margin ±{margin:g} pp, {test} p={p:.3g}"
        )
        inside = -margin < lo and hi < margin
        where = "inside" if inside else "outside" if (lo > margin or hi < -margin) else "across"
        reading = (
            f"{inputs.reference} − {self.variant} {est:+.1f} pp [{lo:+.1f}, {hi:+.1f}] (90%), "
            f"{where} the ±{margin:g} pp margin, over {k} datasets"
        )
        r = inputs.runs
        sel = r[r["variant"].isin([inputs.reference, self.variant])
                & (r["source"] == pairs["source"].iloc[0])]  # fmt: skip
        power = (
            f"{k} datasets: too few to show equivalence unless they agree closely" if k < 4 else ""
        )
        return Measurement(
            measured, f"{self.protocol} protocol: {setting_text(sel)}", k, est, lo, hi, p,
            "pp (chance-normalised)", 0.0, power, band=margin, units=f"{k} datasets",
            reading=reading, min_p=0.0,
        )  # fmt: skip
