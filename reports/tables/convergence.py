"""Did tuning converge? The best validation value found so far, trial by trial, for every study,
and one row per study saying when its final best was found and how much the second half of its
trials still gained.

Only complete trials count towards the best: a trial a multi-fidelity pruner stopped early
reports a value at a lower budget, not comparable with a complete one. Every finished trial
(complete, pruned or failed) counts as one trial of the budget spent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.data import sort_by_variant, with_columns

__all__ = ["CONVERGENCE_COLUMNS", "NEAR_BEST", "best_so_far", "convergence_table"]

NEAR_BEST = 0.99  # "trials to reach 99 % of the final best"
CONVERGENCE_COLUMNS = [
    "study_name", "variant", "dataset", "depth", "n_trials", "n_complete", "best",
    "best_at_trial", "trials_to_99pct", "gain_last_half_pp", "reading",
]  # fmt: skip
_IDS = ["study_name", "variant", "dataset", "depth"]


def best_so_far(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per finished trial of every study, in trial-number order: the study's ids,
    `trial` (1 for its first finished trial, …), `number` (Optuna's) and `best`, the highest
    value of the complete trials so far (NaN before the first complete one)."""
    t = with_columns(trials, "trials")
    t = t[t["number"].notna() & t["study_name"].notna()]
    t = t.sort_values(["study_name", "number"], kind="mergesort")
    complete = t["state"].astype(str).str.upper() == "COMPLETE"
    value = t["value"].where(complete).fillna(-np.inf).astype(float)
    best = value.groupby(t["study_name"], sort=False).cummax()
    out = t[[*_IDS, "number"]].assign(
        trial=t.groupby("study_name", sort=False).cumcount() + 1,
        best=best.where(np.isfinite(best)),
    )
    return out[[*_IDS, "trial", "number", "best"]].reset_index(drop=True)


def _row(g: pd.DataFrame) -> dict:
    n = len(g)
    best = g["best"].to_numpy(float)
    row = {"n_trials": n, "best": np.nan, "best_at_trial": pd.NA, "trials_to_99pct": pd.NA,
           "gain_last_half_pp": np.nan}  # fmt: skip
    if not np.isfinite(best).any():
        return {**row, "reading": f"no complete trial in {n}"}
    final = float(np.nanmax(best))
    at = int(np.argmax(best == final)) + 1  # the trial that found it (first on ties)
    near = int(np.argmax(best >= NEAR_BEST * final)) + 1
    half = best[n // 2 - 1] if n >= 2 else np.nan
    gain = (final - half) * 100 if np.isfinite(half) else np.nan
    reading = f"best found at trial {at} of {n}; 99 % of it by trial {near}"
    if np.isfinite(gain) and gain > 0:
        reading += f"; the last {n - n // 2} trials still gained {gain:.1f} pp"
    return {**row, "best": 100 * final, "best_at_trial": at, "trials_to_99pct": near,
            "gain_last_half_pp": gain, "reading": reading}  # fmt: skip


def convergence_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per study: n_trials (finished), n_complete, best (validation accuracy, %),
    best_at_trial (k: the best was found at the k-th of n_trials), trials_to_99pct (trials run
    until the best so far first reached 99 % of the final best), gain_last_half_pp (what the
    second half of the trials added to the best, pp; 0: tuning had converged by half-way), and
    a one-line reading."""
    curve = best_so_far(trials)
    if curve.empty:
        return pd.DataFrame(columns=CONVERGENCE_COLUMNS)
    t = with_columns(trials, "trials")
    complete = t[t["state"].astype(str).str.upper() == "COMPLETE"].groupby("study_name").size()
    rows = []
    for key, g in curve.groupby(_IDS, dropna=False, sort=True):
        ids = dict(zip(_IDS, key, strict=True))
        rows.append({**ids, "n_complete": int(complete.get(ids["study_name"], 0)), **_row(g)})
    out = pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS)
    for col in ("n_trials", "n_complete", "best_at_trial", "trials_to_99pct", "depth"):
        out[col] = out[col].astype("Int64")
    return sort_by_variant(out, ["variant", "dataset", "depth", "study_name"])
