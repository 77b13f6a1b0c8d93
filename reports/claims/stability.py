"""Stability claims: does removing a component change how often training fails?

Estimand: among the pairs where exactly one run fails (diverged, failed, or collapsed to
chance), the share where the ablation is the one that fails; 50 % under "no difference".
Procedure: the exact McNemar test, i.e. the exact binomial test on the discordant pairs
(scipy.stats.binomtest), with its Clopper–Pearson interval of that share: estimate, interval
and p-value of one binomial procedure. The pairs are those of the component's accuracy row
(same protocol and setting). Failures are rare and pairs of one dataset share its data, so this
row reads across pairs, not datasets: read it as the stability beside the accuracy row, not as
a claim about a population of tasks. Family: stability (Holm within it).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from reports.claims.base import ClaimInputs, Measurement, no_data
from reports.claims.paired import effect_pairs
from reports.data import hint

__all__ = ["Stability"]


@dataclass(frozen=True)
class Stability:
    """The reference fails less often than `variant` (its component stabilises training)."""

    variant: str
    protocol: str | None = None

    def rule(self, reference: str) -> str:
        return (
            f"{self.protocol or 'any'} protocol, pairs of the accuracy row: a run fails if it "
            "diverged, failed or collapsed; among pairs where exactly one fails, the share where "
            f"{self.variant} is the one, exact binomial (McNemar) test of 50% with its "
            "Clopper–Pearson 95% interval: supported (the component stabilises) if p_holm < "
            "0.05 and the interval lies above 50%, not supported if below, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        pairs = effect_pairs(inputs, self.variant, self.protocol)
        if pairs.empty:
            return no_data(
                f"no pairs of {inputs.reference!r} and {self.variant!r} ({self.protocol} "
                f"protocol) — {hint(inputs.meta, 'runs')}"
            )
        # not ok, or collapsed: not above chance (normalised accuracy 0 or below)
        fail_r = ~pairs["survived_reference"] | (pairs["normalised_reference"] <= 1e-12)
        fail_v = ~pairs["survived_variant"] | (pairs["normalised_variant"] <= 1e-12)
        n = len(pairs)
        only_v = int((fail_v & ~fail_r).sum())
        only_r = int((fail_r & ~fail_v).sum())
        disc = only_v + only_r
        rates = (
            f"{inputs.reference} fails in {int(fail_r.sum())} of {n} pairs, {self.variant} in "
            f"{int(fail_v.sum())}; {disc} discordant ({self.variant} alone {only_v}, "
            f"{inputs.reference} alone {only_r})"
        )
        if disc == 0:
            return Measurement(
                f"{rates}: no discordant pair, no evidence either way", n=n, unit="% of discordant",
                reference_value=50.0, units=f"{n} pairs", reading=rates, p_value=1.0,
                estimate=50.0, ci_low=0.0, ci_high=100.0, min_p=1.0,
            )  # fmt: skip
        test = stats.binomtest(only_v, disc, 0.5)
        ci = test.proportion_ci(0.95, method="exact")
        est, lo, hi = 100 * only_v / disc, 100 * ci.low, 100 * ci.high
        measured = (
            f"{rates}: {self.variant} is the failing one in {est:.0f}% [{lo:.0f}, {hi:.0f}] of "
            f"discordant pairs, exact McNemar p={test.pvalue:.3g} (smallest possible with {disc} "
            f"discordant pairs: {min(1.0, 2.0 / 2.0**disc):.3g})"
        )
        return Measurement(
            measured, f"{self.protocol} protocol, the accuracy row's pairs", n, est, lo, hi,
            float(test.pvalue), f"% of {disc} discordant pairs where {self.variant} alone fails",
            50.0, units=f"{n} pairs", reading=rates, min_p=min(1.0, 2.0 / 2.0**disc),
        )  # fmt: skip
