"""Does a verdict replicate? The claims table of an experiment A beside the claims table of its
replicate B: the same claims, the same rules, computed independently on B's runs (another base
seed and data seed, so no run of B pairs with a run of A).

Each claim row of A gets B's verdict (`verdict_replicate`) and one of

- ``replicates``: the same verdict, and a firm one (supported, not supported, equivalent, not
  equivalent, dataset-dependent);
- ``same, undecided``: both sides undecided (inconclusive, undetermined, or the same other
  verdict a rule without a p-value gives);
- ``does not replicate (B: …)``: the verdicts differ (A's is in the row's `verdict` column);
- ``no data in B`` / ``no data in A``: a side without the runs the claim needs.

A firm verdict that does not replicate was decided by the seeds, not by the model: the report
says how many of A's firm verdicts hold in B.
"""

from __future__ import annotations

import pandas as pd

from reports.claims import claims_table
from reports.data import ReportData

__all__ = [
    "DOES_NOT_REPLICATE",
    "FIRM",
    "NO_DATA_A",
    "NO_DATA_B",
    "REPLICATES",
    "REPLICATION_COLUMNS",
    "SAME_UNDECIDED",
    "add_replication",
    "claims_of",
    "replication",
    "replication_summary",
    "replication_table",
]

FIRM = ("supported", "not supported", "equivalent", "not equivalent", "dataset-dependent")
NO_DATA = "no data"
REPLICATES, SAME_UNDECIDED = "replicates", "same, undecided"
DOES_NOT_REPLICATE = "does not replicate"
NO_DATA_A, NO_DATA_B = "no data in A", "no data in B"
REPLICATION_COLUMNS = ["verdict_replicate", "replication"]


def claims_of(data: ReportData) -> pd.DataFrame:
    """The claims table of one experiment's frames: the one call the report makes for A and
    for its replicate B alike, so both are judged by the same rules."""
    return claims_table(
        data.runs, data.loss_ranking, reference=data.reference, meta=data.meta,
        epochs=data.epochs, betas=data.betas, meshes=data.meshes,
    )  # fmt: skip


def replication(verdict_a: str, verdict_b: str | None) -> str:
    """Whether B's verdict (None: B has no such row) replicates A's, as a short label."""
    a = str(verdict_a)
    b = NO_DATA if verdict_b is None or pd.isna(verdict_b) else str(verdict_b)
    if a == NO_DATA:
        return NO_DATA_A
    if b == NO_DATA:
        return NO_DATA_B
    if a == b:
        return REPLICATES if a in FIRM else SAME_UNDECIDED
    return f"{DOES_NOT_REPLICATE} (B: {b})"


def add_replication(claims_a: pd.DataFrame, claims_b: pd.DataFrame) -> pd.DataFrame:
    """A's claims table with two more columns: `verdict_replicate` (B's verdict of the same
    claim id; "no data" where B lacks the row) and `replication` (replication())."""
    for name, frame in (("A", claims_a), ("B", claims_b)):
        missing = {"id", "verdict"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"the claims table of {name} must have the columns id and verdict, but lacks "
                f"{', '.join(sorted(missing))}"
            )
    if claims_b["id"].duplicated().any():
        dup = sorted(set(claims_b.loc[claims_b["id"].duplicated(), "id"].astype(str)))
        raise ValueError(f"claim ids must be unique in B's claims table, but got {dup}")
    of_b = dict(zip(claims_b["id"].astype(str), claims_b["verdict"].astype(str), strict=True))
    out = claims_a.copy()
    b = out["id"].astype(str).map(of_b)
    out["verdict_replicate"] = b.fillna(NO_DATA).astype(str)
    labels = [replication(va, vb) for va, vb in zip(out["verdict"], b, strict=True)]
    out["replication"] = pd.Series(labels, index=out.index, dtype=object)
    return out


def _counts(claims: pd.DataFrame) -> tuple[int, int, int, int, int]:
    """(firm in A, of them replicating, undecided on both sides, differing, no data in B) over
    the primary rows (every row of a table without roles)."""
    rows = claims if "role" not in claims else claims[claims["role"].astype(str) == "primary"]
    label = rows["replication"].astype(str)
    firm = rows["verdict"].astype(str).isin(FIRM)
    return (
        int(firm.sum()),
        int((firm & (label == REPLICATES)).sum()),
        int((label == SAME_UNDECIDED).sum()),
        int(label.str.startswith(DOES_NOT_REPLICATE).sum()),
        int((label == NO_DATA_B).sum()),
    )


def replication_summary(claims: pd.DataFrame, a: str = "A", b: str = "B") -> str:
    """One line: how many of A's firm primary verdicts replicate in B, and the rest."""
    if "replication" not in claims:
        raise ValueError("the claims table has no `replication` column: add_replication first")
    n_firm, n_rep, n_undecided, n_differ, n_missing = _counts(claims)
    text = (
        f"{n_rep} of {n_firm} firm verdicts replicate: of the primary claims `{a}` decides, "
        f"{n_rep} get the same verdict in `{b}` (another base seed and data seed)"
    )
    text += f"; {n_differ} primary claims do not replicate, {n_undecided} are undecided in both"
    if n_missing:
        text += f", {n_missing} have no data in `{b}`"
    return text + "."


def replication_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The section's table: id, role, verdict in A, verdict in B, replication, every row."""
    role = claims["role"] if "role" in claims else pd.Series("primary", index=claims.index)
    return pd.DataFrame(
        {
            "id": claims["id"].astype(str),
            "role": role.astype(str),
            "verdict": claims["verdict"].astype(str),
            "verdict_replicate": claims["verdict_replicate"].astype(str),
            "replication": claims["replication"].astype(str),
        }
    ).reset_index(drop=True)
