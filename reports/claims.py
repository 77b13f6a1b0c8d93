"""The blog's claims beside what was measured, each with a verdict.

A claim is one declarative entry of CLAIMS: an id, the claim's words, and the *measure* that
judges it (AccuracyTarget, PairedEffect, LossRanking); each measure states its own rule. Adding a
claim is adding an entry; a new kind of evidence is a new measure class with `rule` and
`measure`.

Verdicts, over the family of claims that have a p-value (Holm-corrected, statsmodels):
`supported` / `not supported` only where p_holm < 0.05 and the 95% interval excludes the claim's
reference value (0 for an effect, the target for an accuracy), on the side the claim predicts /
the other side; otherwise `inconclusive`, with the smallest effect the data could have detected
in the `measured` text; `no data` where the runs are missing. A deterministic measurement (the
loss ranking) has no p-value and is judged by its rule directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reports.claim_measures import (
    ALPHA,
    AccuracyTarget,
    ClaimInputs,
    LossRanking,
    Measure,
    Measurement,
    PairedEffect,
)
from reports.claim_paired import AccuracyBest, Equivalence, PairedOutcome, SweepEffect
from reports.claim_structure import BoundaryUse, PhaseBoundaries, SeedDisagreement, SignedMean
from reports.contributions import PRIMARY, SURVIVORS, cell_contributions, pooled_contributions
from reports.data import FIXED, REFERENCE, TUNED, normalise_runs
from reports.stats import holm

__all__ = [
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "Claim",
    "INCONCLUSIVE",
    "NOT_SUPPORTED",
    "NO_DATA",
    "SUPPORTED",
    "claims_table",
]

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NO_DATA = (
    "supported", "not supported", "inconclusive", "no data",
)  # fmt: skip
CLAIMS_COLUMNS = [
    "id", "claim", "setting", "verdict", "estimate", "ci_low", "ci_high", "unit", "p_value",
    "p_holm", "n", "measured", "rule",
]  # fmt: skip


@dataclass(frozen=True)
class Claim:
    """One row of the claims table: `id`, the claim in words, and the measure that judges it."""

    id: str
    claim: str
    measure: Measure


def _both(cid: str, text: str, variant: str, **kw) -> tuple[Claim, Claim]:
    """A component claim judged under both ablation protocols (one row each)."""
    return (
        Claim(f"{cid}-fixed", text, PairedEffect(variant, FIXED, **kw)),
        Claim(f"{cid}-tuned", text, PairedEffect(variant, TUNED, **kw)),
    )


CLAIMS: tuple[Claim, ...] = (
    Claim("1a", "MNIST 92% with one layer, at the blog's setting (T = 0.008, 100 epochs)",
          AccuracyTarget("mnist", 1, 0.92)),
    Claim("1b", "MNIST 92% with one layer, at the best setting found (chosen on validation)",
          AccuracyBest("mnist", 1, 0.92)),
    Claim("2a", "MNIST 96% with two layers, at the blog's setting (T = 0.008, 100 epochs)",
          AccuracyTarget("mnist", 2, 0.96)),
    Claim("2b", "MNIST 96% with two layers, at the best setting found (chosen on validation)",
          AccuracyBest("mnist", 2, 0.96)),
    Claim("3-fixed", "performance comparable to a standard fully connected network",
          Equivalence("plain_mlp", 5.0, FIXED)),
    Claim("3-tuned", "performance comparable to a standard fully connected network",
          Equivalence("plain_mlp", 5.0, TUNED)),
    *_both("4a", "Langevin noise improves exploration (vs the same optimizer without noise)",
           "no_noise"),
    *_both("4b", "Langevin dynamics improves exploration (vs plain SGD)", "sgd"),
    Claim("4c", "Langevin noise improves exploration (temperature sweep: T = 0.008 vs T = 0)",
          SweepEffect("temperature", 0.008, 0.0)),
    Claim("5a", "Langevin escapes local minima / finds global optima: lower final training "
          "loss than without noise", PairedOutcome("no_noise", "final_train_loss")),
    Claim("5b", "Langevin escapes local minima / finds global optima: lower final training "
          "loss than SGD", PairedOutcome("sgd", "final_train_loss")),
    Claim("5c", "Langevin escapes sharp local minima: lower sharpness (top Hessian "
          "eigenvalue) than without noise", PairedOutcome("no_noise", "sharpness")),
    Claim("5d", "Langevin escapes sharp local minima: lower sharpness than SGD",
          PairedOutcome("sgd", "sharpness")),
    *_both("6a", "the quartic term adds useful stable states (accuracy)", "no_quartic"),
    Claim("6b", "the quartic term allows multiple stable states (distinct solutions across "
          "seeds)", SeedDisagreement("no_quartic")),
    *_both("7a", "the spatial term adds useful coherence (accuracy)", "no_spatial"),
    Claim("7b", "the spatial term promotes coherence of the outputs (what it does under the "
          "loss's absolute value)", SignedMean()),
    *_both("8", "the dynamic (Allen–Cahn) β helps", "static_beta"),
    *_both("9", "the hyperbolic modulation captures structure (vs plain bias-free linear "
           "layers, same loss and optimizer)", "linear_layers"),
    *_both("10", "the input-adaptive t_dynamic term helps", "no_tdynamic"),
    Claim("11", "Allen–Cahn propagates phase boundaries (kinks in a field β at the end)",
          PhaseBoundaries()),
    *_both("12", "Mish activation (the table's caption) does better than the code's rrelu",
           "mish", favours_variant=True),
    Claim("13", "the model draws the decision boundaries of moons, circles, classification "
          "(uses both inputs)", BoundaryUse()),
    Claim("14", "the blog's loss ranks a perfect prediction best (implicit in using it as a "
          "loss)", LossRanking()),
)  # fmt: skip


def _check_ids(claims: tuple[Claim, ...]) -> None:
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise ValueError(f"duplicate claim id {c.id!r}; claim ids must be unique")
        seen.add(c.id)


def _verdict(m: Measurement, p_holm: float) -> tuple[str, str]:
    """(verdict, measured text) from a measurement and its Holm-adjusted p-value."""
    if m.verdict is not None:  # no data, or a deterministic measurement
        return m.verdict, m.measured
    if m.band is not None:  # equivalence within ±band
        inside = -m.band < m.ci_low and m.ci_high < m.band
        outside = m.ci_low > m.band or m.ci_high < -m.band
        if np.isfinite(p_holm) and p_holm < ALPHA and inside:
            return SUPPORTED, m.measured
        if np.isfinite(p_holm) and p_holm < ALPHA and outside:
            return NOT_SUPPORTED, m.measured
        return INCONCLUSIVE, f"{m.measured}; {m.power}" if m.power else m.measured
    excludes_above = m.ci_low > m.reference_value
    excludes_below = m.ci_high < m.reference_value
    if np.isfinite(p_holm) and p_holm < ALPHA and (excludes_above or excludes_below):
        return (SUPPORTED if excludes_above else NOT_SUPPORTED), m.measured
    return INCONCLUSIVE, f"{m.measured}; {m.power}" if m.power else m.measured


def claims_table(
    runs: pd.DataFrame,
    loss_ranking: pd.DataFrame | None = None,
    *,
    reference: str = REFERENCE,
    meta: dict[str, Any] | None = None,
    pooled: pd.DataFrame | None = None,
    claims: tuple[Claim, ...] = CLAIMS,
    epochs: pd.DataFrame | None = None,
    betas: pd.DataFrame | None = None,
    meshes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per claim, columns CLAIMS_COLUMNS. `pooled` may pass a precomputed
    pooled_contributions(runs); `epochs`, `betas`, `meshes` feed the claims read from them."""
    _check_ids(claims)
    r = normalise_runs(runs)
    if pooled is None:
        pooled = pooled_contributions(r, reference=reference)
    inputs = ClaimInputs(
        runs=r,
        pooled=pooled,
        loss_ranking=loss_ranking if loss_ranking is not None else pd.DataFrame(),
        reference=reference,
        meta=meta or {},
        epochs=epochs if epochs is not None else pd.DataFrame(),
        betas=betas if betas is not None else pd.DataFrame(),
        meshes=meshes if meshes is not None else pd.DataFrame(),
        cells=pd.concat(
            [
                cell_contributions(r, reference=reference, anchors=(), analysis=a).assign(
                    analysis=a
                )
                for a in (PRIMARY, SURVIVORS)
            ]
        ),
    )
    measured = [c.measure.measure(inputs) for c in claims]
    p_holm = holm([m.p_value for m in measured])
    rows = []
    for c, m, ph in zip(claims, measured, p_holm, strict=True):
        verdict, text = _verdict(m, ph)
        rows.append(
            {"id": c.id, "claim": c.claim, "setting": m.setting, "verdict": verdict,
             "estimate": m.estimate, "ci_low": m.ci_low, "ci_high": m.ci_high, "unit": m.unit,
             "p_value": m.p_value, "p_holm": ph, "n": m.n, "measured": text,
             "rule": c.measure.rule(reference)}
        )  # fmt: skip
    out = pd.DataFrame(rows, columns=CLAIMS_COLUMNS)
    return out.astype({"n": "Int64", "estimate": float, "ci_low": float, "ci_high": float})
