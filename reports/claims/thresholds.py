"""Claims judged by a threshold on a share of runs (7b, 11) and the deterministic loss ranking.

Estimand: the share of runs with a property (a negative signed mean of the loss; a phase
boundary in β). Procedure: the Clopper–Pearson 95% interval of that share over runs
(scipy.stats.binomtest), with each dataset's share beside it; the verdict reads the interval
against the claim's threshold (one half), so a data draw that moves the point estimate across
the threshold cannot flip the verdict silently. No p-value: outside the Holm families.
LossRanking (14) is a deterministic computation: no interval, judged by its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from reports.claims.base import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    ClaimInputs,
    Measurement,
    no_data,
)
from reports.data import STATED, hint, with_columns

__all__ = ["LossRanking", "PhaseBoundaries", "SignedMean", "share_interval"]

BLOG_ALPHA, BLOG_GAMMA = STATED["alpha"], STATED["gamma"]  # the blog's table


def share_interval(flags: pd.Series) -> tuple[float, float, float]:
    """(share, low, high) in percent: the Clopper–Pearson 95% interval of the share of True."""
    k, n = int(flags.sum()), len(flags)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    return 100 * k / n, 100 * ci.low, 100 * ci.high


def _by_dataset(flags: pd.Series, datasets: pd.Series) -> str:
    shares = flags.groupby(datasets.fillna("?")).agg(["sum", "size"])
    return ", ".join(f"{ds} {int(r['sum'])}/{int(r['size'])}" for ds, r in shares.iterrows())


def _against_half(low: float, high: float, above: str, below: str) -> str:
    return above if low > 50 else below if high < 50 else INCONCLUSIVE


@dataclass(frozen=True)
class SignedMean:
    """The sign of the loss's mean inside the absolute value at the last epoch (the recorded
    batch means of the three terms: quadratic − quartic + spatial)."""

    def rule(self, reference: str) -> str:
        return (
            f"every {reference} run's last epoch: signed mean = quadratic − quartic + spatial "
            "(batch means of the terms). Under |·| a negative mean flips every term, so the "
            "spatial term is then maximised (outputs that differ across the batch are rewarded). "
            "Share of runs with a negative mean, Clopper–Pearson 95% interval: not supported if "
            "it lies above 50%, supported if below 50%, else inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        e = with_columns(inputs.epochs, "epochs")
        e = e[e["variant"] == inputs.reference].dropna(
            subset=["loss_quadratic", "loss_quartic", "loss_spatial"]
        )
        if e.empty:
            return no_data(f"no loss terms of {inputs.reference!r} — {hint(inputs.meta, 'epochs')}")
        last = e.sort_values("epoch").groupby("run_id").tail(1)
        signed = last["loss_quadratic"] - last["loss_quartic"] + last["loss_spatial"]
        share, lo, hi = share_interval(signed < 0)
        verdict = _against_half(lo, hi, NOT_SUPPORTED, SUPPORTED)
        reading = (
            f"negative in {share:.0f}% [{lo:.0f}, {hi:.0f}] of {len(signed)} runs "
            f"(per dataset: {_by_dataset(signed < 0, last['dataset'])})"
        )
        measured = (
            f"signed mean at the last epoch: median {signed.median():+.3g} (range "
            f"{signed.min():+.3g} to {signed.max():+.3g}); {reading}; spatial term's batch mean "
            f"{last['loss_spatial'].median():.3g}"
        )
        return Measurement(
            measured, "every run of the reference, last epoch", len(signed), share, lo, hi,
            unit="% of runs with a negative signed mean", verdict=verdict,
            units=f"{len(signed)} runs", reading=reading,
        )  # fmt: skip


@dataclass(frozen=True)
class PhaseBoundaries:
    """Kinks in a field β at the last epoch: interfaces between neighbouring units in opposite
    phases (|β| > `phase` on both sides, opposite signs) and jumps |Δβ| > `jump`."""

    variant: str = "field_beta"
    phase: float = 0.5
    jump: float = 0.5

    def rule(self, reference: str) -> str:
        return (
            f"every {self.variant} run, last epoch, each layer's β over its units: an interface "
            f"is a neighbouring pair with |β| > {self.phase:g} on both sides and opposite signs; "
            f"a jump is |Δβ| > {self.jump:g}. Share of runs with an interface, Clopper–Pearson "
            "95% interval: supported if it lies above 50%, not supported if below 50%, else "
            "inconclusive"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        b = with_columns(inputs.betas, "betas")
        b = b[b["variant"] == self.variant].dropna(subset=["beta", "unit", "epoch"])
        if b.empty:
            return no_data(
                f"no β records of {self.variant!r} — run `landau grid standard` (it includes "
                f"{self.variant})"
            )
        last = b[b["epoch"] == b.groupby("run_id")["epoch"].transform("max")]
        rows = []
        for rid, g in last.groupby("run_id"):
            n_int = n_jump = 0
            for _, layer in g.groupby("layer"):
                beta = layer.sort_values("unit")["beta"].to_numpy(float)
                a, c = beta[:-1], beta[1:]
                phases = (np.abs(a) > self.phase) & (np.abs(c) > self.phase)
                n_int += int(np.sum(phases & (np.sign(a) != np.sign(c))))
                n_jump += int(np.sum(np.abs(c - a) > self.jump))
            rows.append((rid, g["dataset"].iloc[0], n_int, n_jump))
        runs = pd.DataFrame(rows, columns=["run_id", "dataset", "interfaces", "jumps"])
        has = runs["interfaces"] > 0
        share, lo, hi = share_interval(has)
        verdict = _against_half(lo, hi, SUPPORTED, NOT_SUPPORTED)
        in_phase = float(np.mean(np.abs(last["beta"].to_numpy(float)) > self.phase))
        reading = (
            f"runs with an interface {share:.0f}% [{lo:.0f}, {hi:.0f}] of {len(runs)} "
            f"(per dataset: {_by_dataset(has, runs['dataset'])})"
        )
        measured = (
            f"{len(runs)} runs: interfaces per run median {runs['interfaces'].median():g} (max "
            f"{runs['interfaces'].max():g}), jumps median {runs['jumps'].median():g}; {reading}; "
            f"units in a phase (|β| > {self.phase:g}) {100 * in_phase:.0f}%"
        )
        return Measurement(
            measured, f"{self.variant}, last epoch", len(runs), share, lo, hi,
            unit="% of runs with an interface", verdict=verdict, units=f"{len(runs)} runs",
            reading=reading,
        )  # fmt: skip


def _is_true(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "1.0", "yes")


@dataclass(frozen=True)
class LossRanking:
    """The perfect prediction has the lowest loss (rank 1) at every (alpha, gamma) measured: a
    deterministic computation, so no test."""

    def rule(self, reference: str) -> str:
        return (
            "deterministic: supported if the perfect prediction has rank 1 at every (alpha, "
            "gamma) measured, not supported otherwise"
        )

    def measure(self, inputs: ClaimInputs) -> Measurement:
        lr = with_columns(inputs.loss_ranking, "loss_ranking")
        if lr["is_perfect"].notna().any():
            flag = lr["is_perfect"].map(_is_true)
        else:
            flag = lr["prediction"] == "perfect"
        if lr["rank"].isna().any():  # rank by loss within each (alpha, gamma), 1 = lowest
            lr["rank"] = lr.groupby(["alpha", "gamma"], dropna=False)["loss"].rank(method="min")
        perfect = lr[flag & lr["rank"].notna()]
        if perfect.empty:
            return no_data(
                "no ranked perfect prediction in loss_ranking — "
                f"{hint(inputs.meta, 'loss_ranking')}"
            )
        sizes = lr.groupby(["alpha", "gamma"], dropna=False).size()
        parts, ranks = [], []
        for _, p in perfect.sort_values(["alpha", "gamma"]).iterrows():
            rank = int(p["rank"])
            ranks.append(rank)
            blog = np.isclose(p["alpha"], BLOG_ALPHA) and np.isclose(p["gamma"], BLOG_GAMMA)
            size = sizes.get((p["alpha"], p["gamma"]), "?")
            parts.append(
                f"rank {rank} of {size} at alpha={p['alpha']:g}, gamma={p['gamma']:g}"
                + (" (blog values)" if blog else "")
            )
        shown = "; ".join(parts[:6]) + ("; …" if len(parts) > 6 else "")
        verdict = SUPPORTED if all(k == 1 for k in ranks) else NOT_SUPPORTED
        settings = sorted(
            {f"alpha={a:g}, gamma={g:g}" for a, g in zip(lr["alpha"], lr["gamma"], strict=True)}
        )
        return Measurement(
            f"perfect prediction: {shown}", "; ".join(settings[:4]), len(ranks), verdict=verdict,
            units=f"{len(ranks)} settings", reading=parts[0] if len(parts) == 1 else shown,
        )  # fmt: skip
