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
from reports.contributions import pooled_contributions
from reports.data import REFERENCE, normalise_runs
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


CLAIMS: tuple[Claim, ...] = (
    Claim("1", "MNIST 92% with one layer", AccuracyTarget("mnist", 1, 0.92)),
    Claim("2", "MNIST 96% with two layers", AccuracyTarget("mnist", 2, 0.96)),
    Claim("3a", "Langevin noise improves exploration (vs the same optimizer without noise)",
          PairedEffect("no_noise")),
    Claim("3b", "Langevin dynamics improves exploration (vs plain SGD)", PairedEffect("sgd")),
    Claim("4", "the quartic term adds useful stable states", PairedEffect("no_quartic")),
    Claim("5", "the spatial term adds useful coherence", PairedEffect("no_spatial")),
    Claim("6", "the dynamic (Allen–Cahn) β helps", PairedEffect("static_beta")),
    Claim("7", "the blog's loss ranks a perfect prediction best (implicit in using it as a loss)",
          LossRanking()),
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
) -> pd.DataFrame:
    """One row per claim, columns CLAIMS_COLUMNS. `pooled` may pass a precomputed
    pooled_contributions(runs)."""
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
