"""Two experiments compared as independent samples: B − A where no run of B pairs with a run of A.

A replicate (the same design at another base seed and data seed) shares no (seed, data_seed)
with its original, so reports.compare cannot pair it run by run. Here each side's runs of one
cell are a sample:

- Per (variant, dataset, depth, setting) cell: the difference of mean test accuracy B − A in pp
  (failed and diverged runs at chance, as everywhere), its Welch 95% interval and Welch's
  two-sided t-test p (scipy.stats.ttest_ind, equal_var=False: one procedure for the estimate,
  the interval and p), Holm over the cells.
- Pooled per (variant, setting), datasets as units: each dataset's mean over its depth cells of
  the difference of chance-normalised means, then the Hodges–Lehmann estimate, its
  Wilcoxon-inverted 95% interval and the exact Wilcoxon signed-rank p over the datasets (the
  claims' pooled procedure, reports.claims.units); Holm over the primary rows. A survivors-only
  row (failed and diverged runs left out) is the sensitivity check.

A cell is a setting (source, epochs) both sides ran: the replicate of an experiment runs the
same settings; a change of setting is what the paired comparison is for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from reports.claims.units import hodges_lehmann
from reports.contributions import PRIMARY, SURVIVORS, finish_pooled
from reports.data import normalise_runs, sort_by_variant
from reports.stats import holm, wilcoxon_test

__all__ = ["UNPAIRED_CELL_COLUMNS", "UNPAIRED_POOLED_COLUMNS", "compare_unpaired", "welch"]

CELL = ["variant", "dataset", "depth", "source", "epochs"]
SETTING = ["source", "epochs"]
UNPAIRED_CELL_COLUMNS = [
    *CELL, "n_a", "n_b", "n_failed_a", "n_failed_b", "mean_a", "mean_b", "diff_pp", "ci95_low",
    "ci95_high", "diff_normalised_pp", "test", "p_value", "p_holm",
]  # fmt: skip
UNPAIRED_POOLED_COLUMNS = [
    "variant", *SETTING, "analysis", "n_cells", "n_datasets", "n_runs_a", "n_runs_b",
    "estimate_pp", "ci95_low", "ci95_high", "test", "p_value", "p_holm",
]  # fmt: skip
_PP = 100.0


def welch(a, b) -> tuple[float, float, float, float, str]:
    """(B − A mean difference, 95% low, high, p, test) of two samples (percent): Welch's t-test
    and its interval (clipped to ±100 pp). Fewer than 2 values on a side: no interval, no p;
    two constant samples: the exact difference, and p = 1 when they are equal."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return np.nan, np.nan, np.nan, np.nan, "none (no runs on a side)"
    diff = float(np.round(b.mean() - a.mean(), 9))
    if a.size < 2 or b.size < 2:
        return diff, np.nan, np.nan, np.nan, "none (fewer than 2 runs on a side)"
    if np.all(a == a[0]) and np.all(b == b[0]):
        return diff, diff, diff, 1.0 if diff == 0 else np.nan, "Welch (no variance on either side)"
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(0.95)
    low, high = max(-_PP, float(ci.low)), min(_PP, float(ci.high))
    return diff, low, high, float(res.pvalue), f"Welch t ({a.size} vs {b.size} runs)"


def _sides(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> pd.DataFrame:
    parts = [normalise_runs(r).assign(_side=s) for r, s in ((runs_a, "a"), (runs_b, "b"))]
    both = pd.concat(parts, ignore_index=True)
    return both[both["accuracy"].notna() & both["variant"].notna()]


def _cell_row(g: pd.DataFrame) -> dict:
    a, b = g[g["_side"] == "a"], g[g["_side"] == "b"]
    diff, low, high, p, test = welch(a["accuracy"] * _PP, b["accuracy"] * _PP)
    norm = (b["normalised"].mean() - a["normalised"].mean()) * _PP
    return {
        "n_a": len(a), "n_b": len(b),
        "n_failed_a": int((~a["survived"]).sum()), "n_failed_b": int((~b["survived"]).sum()),
        "mean_a": a["accuracy"].mean() * _PP, "mean_b": b["accuracy"].mean() * _PP,
        "diff_pp": diff, "ci95_low": low, "ci95_high": high,
        "diff_normalised_pp": float(np.round(norm, 9)), "test": test, "p_value": p,
    }  # fmt: skip


def _cells(both: pd.DataFrame, analysis: str) -> pd.DataFrame:
    if analysis == SURVIVORS:
        both = both[both["survived"]]
    rows = []
    for key, g in both.groupby(CELL, dropna=False, sort=True):
        if g["_side"].nunique() == 2:  # a setting both sides ran
            rows.append({**dict(zip(CELL, key, strict=True)), **_cell_row(g)})
    out = pd.DataFrame(rows, columns=UNPAIRED_CELL_COLUMNS)
    out["p_holm"] = holm(out["p_value"].to_numpy(float)) if len(out) else []
    for col in ("n_a", "n_b", "n_failed_a", "n_failed_b", "depth", "epochs"):
        out[col] = out[col].astype("Int64")
    return sort_by_variant(out, CELL)


def _pooled_row(cells: pd.DataFrame) -> dict:
    per_dataset = cells.groupby("dataset", sort=True)["diff_normalised_pp"].mean()
    values = per_dataset.to_numpy(float)
    values = values[np.isfinite(values)]
    est, low, high = hodges_lehmann(values)
    test = wilcoxon_test(values)
    return {
        "n_cells": len(cells), "n_datasets": len(values),
        "n_runs_a": int(cells["n_a"].sum()), "n_runs_b": int(cells["n_b"].sum()),
        "estimate_pp": est, "ci95_low": low, "ci95_high": high,
        "test": test.test.replace("cells", "datasets"), "p_value": test.pvalue,
    }  # fmt: skip


def compare_unpaired(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """(cells, pooled) of B − A as independent samples, for every variant, dataset, depth and
    setting both ran. cells: UNPAIRED_CELL_COLUMNS (the primary analysis, failures at chance);
    pooled: UNPAIRED_POOLED_COLUMNS, per (variant, setting) a primary row and a survivors-only
    row (p_holm NaN: a sensitivity row)."""
    both = _sides(runs_a, runs_b)
    cells = _cells(both, PRIMARY)
    rows = []
    for analysis in (PRIMARY, SURVIVORS):
        of = cells if analysis == PRIMARY else _cells(both, SURVIVORS)
        for key, g in of.groupby(["variant", *SETTING], dropna=False, sort=True):
            row = dict(zip(["variant", *SETTING], key, strict=True))
            rows.append({**row, "analysis": analysis, **_pooled_row(g)})
    pooled = pd.DataFrame(rows, columns=UNPAIRED_POOLED_COLUMNS)
    counts = ("n_cells", "n_datasets", "n_runs_a", "n_runs_b", "epochs")
    return cells, finish_pooled(pooled, counts)
