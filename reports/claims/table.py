"""The claims table: every claim's measurement, its family's Holm correction, and its verdict.

Verdicts read the Holm-adjusted p-value within the claim's family (a sensitivity row: its own,
unadjusted p) together with the interval of the same procedure: `supported` / `not supported`
where p < 0.05 and the 95% interval excludes the claim's reference value (the target, 0, or
50 % of discordant pairs) on the side the claim predicts / the other side; `dataset-dependent`
where the datasets significantly disagree; `equivalent` / `not equivalent` / `undetermined` for
an equivalence claim; else `inconclusive`, with what the data could have detected; `no data`
where the runs are missing. Rows without a p-value are judged by their own rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reports.claims.base import (
    ALPHA,
    DATASET_DEPENDENT,
    EQUIVALENT,
    INCONCLUSIVE,
    NOT_EQUIVALENT,
    NOT_SUPPORTED,
    SUPPORTED,
    UNDETERMINED,
    ClaimInputs,
    Measurement,
)
from reports.claims.registry import CLAIMS, PRIMARY, Claim
from reports.data import REFERENCE, normalise_runs
from reports.stats import holm

__all__ = ["CLAIMS_COLUMNS", "claims_table", "verdict"]

CLAIMS_COLUMNS = [
    "id", "claim", "setting", "verdict", "estimate", "ci_low", "ci_high", "unit", "p_value",
    "p_holm", "n", "measured", "rule", "family", "role", "units", "reading",
]  # fmt: skip


def _check_ids(claims: tuple[Claim, ...]) -> None:
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise ValueError(f"duplicate claim id {c.id!r}; claim ids must be unique")
        seen.add(c.id)


def verdict(m: Measurement, p: float) -> str:
    """The verdict of a measurement whose p-value, as the verdict reads it, is `p`."""
    if m.verdict is not None:  # no data, or a rule without a p-value
        return m.verdict
    decisive = bool(np.isfinite(p) and p < ALPHA)
    if m.band is not None:  # equivalence within ±band
        inside = -m.band < m.ci_low and m.ci_high < m.band
        outside = m.ci_low > m.band or m.ci_high < -m.band
        if decisive and inside:
            return EQUIVALENT
        return NOT_EQUIVALENT if decisive and outside else UNDETERMINED
    if m.dataset_dependent:
        return DATASET_DEPENDENT
    if decisive and m.ci_low > m.reference_value:
        return SUPPORTED
    if decisive and m.ci_high < m.reference_value:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _family_holm(claims: tuple[Claim, ...], measured: list[Measurement]) -> np.ndarray:
    """Holm within each family over its primary rows; NaN for sensitivity and uncorrected rows."""
    out = np.full(len(claims), np.nan)
    families = {c.family for c in claims if c.role == PRIMARY and c.corrected}
    for family in sorted(families):
        idx = [i for i, c in enumerate(claims) if c.family == family and c.role == PRIMARY]
        out[idx] = holm([measured[i].p_value for i in idx])
    return out


def claims_table(
    runs: pd.DataFrame,
    loss_ranking: pd.DataFrame | None = None,
    *,
    reference: str = REFERENCE,
    meta: dict[str, Any] | None = None,
    claims: tuple[Claim, ...] = CLAIMS,
    epochs: pd.DataFrame | None = None,
    betas: pd.DataFrame | None = None,
    meshes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per claim, columns CLAIMS_COLUMNS; `epochs`, `betas`, `meshes` feed the claims
    read from them."""
    _check_ids(claims)
    inputs = ClaimInputs(
        runs=normalise_runs(runs),
        loss_ranking=loss_ranking if loss_ranking is not None else pd.DataFrame(),
        reference=reference,
        meta=meta or {},
        epochs=epochs if epochs is not None else pd.DataFrame(),
        betas=betas if betas is not None else pd.DataFrame(),
        meshes=meshes if meshes is not None else pd.DataFrame(),
    )
    measured = [c.measure.measure(inputs) for c in claims]
    p_holm = _family_holm(claims, measured)
    rows = []
    for c, m, ph in zip(claims, measured, p_holm, strict=True):
        primary = c.role == PRIMARY
        v = verdict(m, ph if primary else m.p_value)
        undecided = v in (INCONCLUSIVE, UNDETERMINED)
        text = f"{m.measured}; {m.power}" if undecided and m.power else m.measured
        reading = m.reading
        if not primary and m.verdict is None:
            reading = f"sensitivity, unadjusted p: {m.reading}"
        where = f"{c.family} family" if c.family else "sensitivity row, outside every family"
        rule = f"{where} ({c.rationale}): {c.measure.rule(reference)}"
        rows.append(
            {"id": c.id, "claim": c.claim, "setting": m.setting, "verdict": v,
             "estimate": m.estimate, "ci_low": m.ci_low, "ci_high": m.ci_high, "unit": m.unit,
             "p_value": m.p_value, "p_holm": ph, "n": m.n, "measured": text, "rule": rule,
             "family": c.family, "role": c.role, "units": m.units, "reading": reading}
        )  # fmt: skip
    out = pd.DataFrame(rows, columns=CLAIMS_COLUMNS)
    return out.astype({"n": "Int64", "estimate": float, "ci_low": float, "ci_high": float})
