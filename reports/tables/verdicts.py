"""The first page's view of the claims: a compact verdict table (one short row per primary
claim), the one-paragraph answer above it, and one line for the claims without data.

Input: the claims table (reports.claims.claims_table): id, claim, verdict, estimate, ci_low,
ci_high, unit, n, measured, and, where the claims declare them, `family`, `role` ("primary" or
"sensitivity"), `units` ("10 runs", "7 datasets") and `reading` (one short line). A table
without the last four reads every row as primary, `n` as its units and the first clause of
`measured` as its reading.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "NO_DATA",
    "PRIMARY_ROLE",
    "STANDARD_POINTER",
    "VERDICT_COLUMNS",
    "answer_text",
    "no_data_text",
    "primary_claims",
    "verdict_table",
]

NO_DATA = "no data"
PRIMARY_ROLE = "primary"
VERDICT_COLUMNS = ["id", "claim", "verdict", "estimate [95% interval]", "units", "reading"]
# decisive verdicts first, in this order; any other verdict after them, alphabetically
DECISIVE = ("supported", "not supported", "equivalent", "not equivalent", "dataset-dependent")
UNDECIDED = ("inconclusive", "undetermined")
STANDARD = "standard"
STANDARD_POINTER = (
    "the standard experiment answers them (`landau run standard`, then the commands at the top "
    "of ablations/grids/standard.toml); its report ships with the code in "
    "`docs/standard-report/` (open `index.html`)"
)
_READING_CHARS = 140


def _with_roles(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims with `role`, `units` and `reading` filled in where a table lacks them."""
    out = claims.copy()
    if "role" not in out:
        out["role"] = PRIMARY_ROLE
    if "units" not in out:
        n = out["n"] if "n" in out else pd.Series(pd.NA, index=out.index)
        out["units"] = n.map(lambda v: "" if pd.isna(v) else f"n = {int(v)}")
    if "reading" not in out:
        measured = out["measured"] if "measured" in out else pd.Series("", index=out.index)
        out["reading"] = measured.fillna("").astype(str).map(_first_clause)
    return out


def _first_clause(text: str) -> str:
    head = text.split("; ")[0]
    return head if len(head) <= _READING_CHARS else head[: _READING_CHARS - 1] + "…"


def primary_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """The primary rows (role "primary"; every row of a table without roles), in table order."""
    out = _with_roles(claims)
    return out[out["role"].astype(str) == PRIMARY_ROLE].reset_index(drop=True)


def _number(v: float) -> str:
    if abs(v) >= 100:
        text = f"{v:.0f}"
    elif abs(v) >= 1e-3 or v == 0:
        text = f"{v:.3g}"
    else:
        text = f"{v:.1e}"
    return text.replace("-", "−")


def _estimate(row: pd.Series) -> str:
    """`91.7 [91.5, 91.8] %`: the estimate, its interval and the first word of its unit."""
    est, low, high = (row.get(k) for k in ("estimate", "ci_low", "ci_high"))
    if est is None or pd.isna(est):
        return "—"
    unit = str(row.get("unit") or "").split(" ")[0]
    interval = ""
    if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
        if math.isfinite(float(low)) and math.isfinite(float(high)):
            interval = f" [{_number(float(low))}, {_number(float(high))}]"
    return f"{_number(float(est))}{interval} {unit}".rstrip()


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per primary claim with data: id, claim, verdict, `estimate [interval] unit`,
    units (what the row counts: runs, datasets) and a one-line reading; with a replicate (a
    `replication` column: reports.replication), that column after the verdict. Sensitivity
    rows and rows without data are left to the full table (and no_data_text)."""
    p = primary_claims(claims)
    p = p[p["verdict"].astype(str) != NO_DATA]
    columns = list(VERDICT_COLUMNS)
    replicated = "replication" in p.columns
    if replicated:
        columns.insert(columns.index("verdict") + 1, "replication")
    rows = [
        {
            "id": row["id"],
            "claim": row["claim"],
            "verdict": row["verdict"],
            **({"replication": row["replication"]} if replicated else {}),
            "estimate [95% interval]": _estimate(row),
            "units": row["units"],
            "reading": row["reading"],
        }
        for _, row in p.iterrows()
    ]
    return pd.DataFrame(rows, columns=columns).astype(object)


def _ids(frame: pd.DataFrame) -> str:
    return ", ".join(frame["id"].astype(str))


def answer_text(claims: pd.DataFrame) -> str:
    """The one-paragraph answer: how many primary claims have data, each decisive verdict
    with its claim ids, how many cannot be decided, how many have no data."""
    p = primary_claims(claims)
    if p.empty:
        return "In short: there are no claims to judge."
    verdict = p["verdict"].astype(str)
    judged = p[verdict != NO_DATA]
    n_missing = int((verdict == NO_DATA).sum())
    if judged.empty:
        return (
            f"In short: none of the {len(p)} claims can be judged from this experiment: it has "
            "no runs of the kind they need (the line below the table says where to find them)."
        )
    parts = []
    others = sorted(set(judged["verdict"].astype(str)) - set(DECISIVE) - set(UNDECIDED))
    for v in (*DECISIVE, *others):
        rows = judged[judged["verdict"].astype(str) == v]
        if len(rows):
            parts.append(f"{len(rows)} {v} ({_ids(rows)})")
    undecided = judged[judged["verdict"].astype(str).isin(UNDECIDED)]
    text = f"In short: of the {len(judged)} claims this experiment can judge, "
    text += ", ".join(parts) if parts else "none is decided"
    if len(undecided):
        counts = undecided["verdict"].astype(str).value_counts().sort_index()
        detail = ", ".join(f"{n} {v}" for v, n in counts.items())
        text += f"; {len(undecided)} cannot be decided with these runs ({detail})"
    text += "."
    if n_missing:
        text += f" {n_missing} more have no data here (the line below the table)."
    return text


def no_data_text(claims: pd.DataFrame, experiment: str | None = None) -> str | None:
    """One line for the primary claims without data (None when every claim has data): their
    ids, and where the answer is: the standard experiment and its shipped report."""
    p = primary_claims(claims)
    missing = p[p["verdict"].astype(str) == NO_DATA]
    if missing.empty:
        return None
    text = f"No data here for {len(missing)} claims ({_ids(missing)}): "
    if experiment == STANDARD:
        return text + "the full table's `measured` column says which runs each needs."
    return text + f"this experiment has no runs of the kind they need; {STANDARD_POINTER}."
