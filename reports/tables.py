"""Descriptive tables: run status, accuracy with t-intervals, runtime and tuning cost, anchors.

Every builder is a pure function DataFrame -> DataFrame. Rows are keyed by variant, dataset, depth
and the run's *setting* (source, epochs; see data.normalise_runs), so runs of different settings
are never pooled. Failed and diverged runs are always counted; statistics use the ok runs only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reports.data import ANCHORS, REFERENCE, normalise_runs, sort_by_variant, with_columns
from reports.stats import mean_ci

__all__ = [
    "accuracy_table",
    "anchors_table",
    "failures_table",
    "runtime_table",
    "status_table",
    "tuning_cost_table",
]

KEYS = ["variant", "dataset", "depth", "source", "epochs"]

ACCURACY_COLUMNS = [
    *KEYS, "n_runs", "n_ok", "n_diverged", "n_failed",
    "mean_ok", "std_ok", "ci95_low_ok", "ci95_high_ok", "val_mean_ok",
]  # fmt: skip
RUNTIME_COLUMNS = [
    *KEYS, "n_ok", "seconds_per_epoch", "samples_per_second", "seconds_per_run",
    "seconds_all_runs", "n_params",
]  # fmt: skip


def _counts(g: pd.DataFrame) -> dict[str, int]:
    status = g["status"]
    return {
        "n_runs": len(g),
        "n_ok": int((status == "ok").sum()),
        "n_diverged": int((status == "diverged").sum()),
        "n_failed": int((status == "failed").sum()),
    }


def _key_dict(key: tuple, keys: Sequence[str]) -> dict:
    return dict(zip(keys, key, strict=True))


def _finish(rows: list[dict], columns: list[str], keys: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    for col in columns:
        if col.startswith("n_") or col in ("depth", "epochs"):
            out[col] = out[col].astype("Int64")
    return sort_by_variant(out, keys)


def status_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Run counts per variant and status (ok, diverged, failed, any other), with a total row."""
    r = normalise_runs(runs)
    statuses = ["ok", "diverged", "failed"]
    statuses += sorted(set(r["status"]) - set(statuses))
    counts = pd.crosstab(r["variant"], r["status"]) if not r.empty else pd.DataFrame()
    counts = counts.reindex(columns=statuses, fill_value=0)
    counts.insert(0, "n_runs", counts.sum(axis=1))
    counts = counts.rename_axis(index="variant", columns=None).reset_index()
    counts = sort_by_variant(counts, ["variant"])
    total = {"variant": "all", **{c: int(counts[c].sum()) for c in counts.columns[1:]}}
    out = pd.concat([counts, pd.DataFrame([total])], ignore_index=True)
    return out.astype({c: "Int64" for c in out.columns[1:]})


def failures_table(runs: pd.DataFrame, max_error: int = 160) -> pd.DataFrame:
    """One row per run whose status is not ok: what it was and why it stopped."""
    r = normalise_runs(runs)
    bad = r[r["status"] != "ok"]
    cols = ["name", "variant", "dataset", "depth", "seed", "status", "epochs_run", "error"]
    out = bad[cols].copy()
    err = out["error"].astype(str).where(out["error"].notna(), "")
    out["error"] = err.map(lambda s: s if len(s) <= max_error else s[: max_error - 1] + "…")
    return sort_by_variant(out, ["variant", "dataset", "depth", "seed"])


def accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per (variant, dataset, depth, setting): counts of all runs by status, and the
    mean, sample std and 95% Student-t interval over the *ok* runs' seeds (`*_ok` columns)."""
    r = normalise_runs(runs)
    rows = []
    for key, g in r.groupby(KEYS, dropna=False, sort=False):
        ok = g[g["status"] == "ok"]
        ci = mean_ci(ok["test_accuracy"])
        val = ok["val_accuracy"].dropna()
        rows.append(
            {
                **_key_dict(key, KEYS),
                **_counts(g),
                "mean_ok": ci.mean,
                "std_ok": ci.std,
                "ci95_low_ok": ci.low,
                "ci95_high_ok": ci.high,
                "val_mean_ok": float(val.mean()) if len(val) else np.nan,
            }
        )
    return _finish(rows, ACCURACY_COLUMNS, KEYS)


def runtime_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Cost per (variant, dataset, depth, setting): means over ok runs of seconds per epoch,
    training samples per second and wall seconds per run; `seconds_all_runs` sums every run
    (failed and diverged included: they cost time too); median parameter count."""
    r = normalise_runs(runs)
    rows = []
    for key, g in r.groupby(KEYS, dropna=False, sort=False):
        ok = g[g["status"] == "ok"]
        params = g["n_params"].dropna()
        rows.append(
            {
                **_key_dict(key, KEYS),
                "n_ok": len(ok),
                "seconds_per_epoch": ok["seconds_per_epoch"].mean(),
                "samples_per_second": ok["samples_per_second"].mean(),
                "seconds_per_run": ok["seconds"].mean(),
                "seconds_all_runs": g["seconds"].sum(min_count=1),
                "n_params": int(params.median()) if len(params) else pd.NA,
            }
        )
    out = _finish(rows, RUNTIME_COLUMNS, KEYS)
    return out.astype({"n_params": "Int64"})


def tuning_cost_table(trials: pd.DataFrame, by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """Tuning cost from the trials frame: studies, trials by state, summed trial wall seconds, and
    the best value (validation accuracy) found, grouped by `by` (default: per variant)."""
    t = with_columns(trials, "trials")
    by = list(by)
    unknown = set(by) - set(t.columns)
    if unknown:
        raise ValueError(f"unknown trial columns {sorted(unknown)}; known: {', '.join(t.columns)}")
    cols = [*by, "n_studies", "n_trials", "n_complete", "n_pruned", "n_fail", "seconds", "best"]
    rows = []
    for key, g in t.groupby(by, dropna=False, sort=True):
        state = g["state"].astype(str).str.upper()
        rows.append(
            {
                **_key_dict(key if isinstance(key, tuple) else (key,), by),
                "n_studies": g["study_name"].nunique(),
                "n_trials": len(g),
                "n_complete": int((state == "COMPLETE").sum()),
                "n_pruned": int((state == "PRUNED").sum()),
                "n_fail": int((state == "FAIL").sum()),
                "seconds": g["seconds"].sum(min_count=1),
                "best": g["value"].max(),
            }
        )
    out = _finish(rows, cols, by)
    return sort_by_variant(out, by) if "variant" in by else out


def _cell(values: pd.Series) -> str | None:
    ci = mean_ci(values)
    if ci.n == 0:
        return None
    if ci.n == 1:
        return f"{ci.mean:.3f} (n=1)"
    return f"{ci.mean:.3f} ± {ci.std:.3f} (n={ci.n})"


def anchors_table(
    runs: pd.DataFrame, reference: str = REFERENCE, anchors: Sequence[str] = ANCHORS
) -> pd.DataFrame:
    """Mean ± std (n) of test accuracy over ok runs, one row per (dataset, depth, setting), one
    column per model: the anchors first, then the reference, then the other Landau variants."""
    r = normalise_runs(runs)
    ok = r[(r["status"] == "ok") & r["test_accuracy"].notna()]
    index = ["dataset", "depth", "source", "epochs"]
    if ok.empty:
        return pd.DataFrame(columns=[*index, *anchors, reference])
    cells = ok.groupby([*index, "variant"], dropna=False)["test_accuracy"].agg(_cell)
    table = cells.unstack("variant")
    order = _anchor_order(list(table.columns), reference, anchors)
    table = table.reindex(columns=order).rename_axis(columns=None).reset_index()
    return table.sort_values(index, na_position="last").reset_index(drop=True)


def _anchor_order(names: list[str], reference: str, anchors: Sequence[str]) -> list[str]:
    """Anchors (even when absent, so the table shows their missing column), reference, others."""
    rest = sorted(n for n in names if n != reference and n not in anchors)
    return [*anchors, reference, *rest]
