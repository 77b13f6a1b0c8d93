"""Descriptive tables: run status, accuracy with intervals, runtime and tuning cost, anchors,
tuned hyperparameters.

Every builder is a pure function DataFrame -> DataFrame. Rows are keyed by variant, dataset, depth
and the run's *setting* (source, epochs; see data.normalise_runs), so runs of different settings
are never pooled. Accuracy is in percent. Its statistics are the primary analysis: a failed or
diverged run counts at chance accuracy, a collapsed run with its accuracy (both are results).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reports.data import ANCHORS, REFERENCE, normalise_runs, sort_by_variant, with_columns
from reports.intervals import bounded_mean_ci, t_interval

FEW_TRIALS = 20  # importances from fewer trials than this are noise more than signal

__all__ = [
    "accuracy_table",
    "anchors_table",
    "format_runs",
    "failures_table",
    "importances_table",
    "runtime_table",
    "status_table",
    "tuned_params_table",
    "tuning_cost_table",
]

KEYS = ["variant", "dataset", "depth", "source", "epochs"]

ACCURACY_COLUMNS = [
    *KEYS, "n", "n_ok", "n_collapsed", "n_diverged", "n_failed", "chance", "mean", "std",
    "ci95_low", "ci95_high", "t95_low", "t95_high", "mean_survivors", "runs", "val_mean",
]  # fmt: skip
LIST_RUNS_BELOW = 5  # cells with fewer runs list every run (`runs` column)
_MARK = {"diverged": "d", "failed": "f"}
RUNTIME_COLUMNS = [
    *KEYS, "n_ok", "seconds_per_epoch", "samples_per_second", "seconds_per_run",
    "seconds_all_runs", "n_params", "threads", "load_avg_max",
]  # fmt: skip


def _counts(g: pd.DataFrame) -> dict[str, int]:
    status = g["status"]
    return {
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
    """Run counts per variant and status (ok, diverged, failed, any other), with a total row;
    each stored run once (a run serving two settings is not counted twice)."""
    r = normalise_runs(runs)
    r = r[~r["alias"]]
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
    """One row per stored run whose status is not ok: what it was and why it stopped."""
    r = normalise_runs(runs)
    r = r[~r["alias"]]
    bad = r[r["status"] != "ok"]
    cols = ["name", "variant", "dataset", "depth", "seed", "status", "epochs_run", "error"]
    out = bad[cols].copy()
    err = out["error"].astype(str).where(out["error"].notna(), "")
    out["error"] = err.map(lambda s: s if len(s) <= max_error else s[: max_error - 1] + "…")
    return sort_by_variant(out, ["variant", "dataset", "depth", "seed"])


def format_runs(g: pd.DataFrame) -> str:
    """Each run's accuracy in percent, in (seed, data_seed) order: `c` marks a collapsed run,
    `d`/`f` a diverged/failed run counted at chance."""
    parts = []
    for row in g.sort_values(["seed", "data_seed"]).itertuples():
        mark = _MARK.get(row.status, "") if not row.survived else ("c" if row.collapsed else "")
        parts.append(f"{100 * row.accuracy:.1f}{mark}" if pd.notna(row.accuracy) else "?")
    return ", ".join(parts)


def accuracy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (percent) per (variant, dataset, depth, setting): counts of all runs by
    status and of collapsed runs, chance (majority-class rate), the mean, sample std and
    Anderson's distribution-free 95% interval over *all* runs (failed and diverged ones at
    chance; see reports.intervals for why not a t-interval), beside it the clipped t-interval
    (t95_*: nominal only for normal-ish runs), the mean over survivors (the sensitivity view),
    and every run listed when there are fewer than 5."""
    r = normalise_runs(runs)
    rows = []
    for key, g in r.groupby(KEYS, dropna=False, sort=False):
        ci = bounded_mean_ci(g["accuracy"])
        t = t_interval(g["accuracy"])
        val = g.loc[g["survived"], "val_accuracy"].dropna()
        survivors = g.loc[g["survived"], "accuracy"]
        rows.append(
            {
                **_key_dict(key, KEYS),
                **_counts(g),
                "n": ci.n,
                "n_collapsed": int(g["collapsed"].sum()),
                "chance": 100 * g["chance_accuracy"].mean(),
                "mean": 100 * ci.mean,
                "std": 100 * ci.std,
                "ci95_low": 100 * ci.low,
                "ci95_high": 100 * ci.high,
                "t95_low": 100 * t.low,
                "t95_high": 100 * t.high,
                "mean_survivors": 100 * survivors.mean() if len(survivors) else np.nan,
                "runs": format_runs(g) if len(g) < LIST_RUNS_BELOW else "",
                "val_mean": 100 * val.mean() if len(val) else np.nan,
            }
        )
    return _finish(rows, ACCURACY_COLUMNS, KEYS)


def runtime_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Cost per (variant, dataset, depth, setting): means over ok runs of seconds per epoch,
    training samples per second and wall seconds per run; `seconds_all_runs` sums every run
    (failed and diverged included: they cost time too); median parameter count; and the
    provenance that explains an outlier: the intra-op thread counts of the ok runs and the highest
    load average at the start of one of them (blank for runs stored without provenance)."""
    r = normalise_runs(runs)
    for col in ("threads", "load_avg"):
        if col not in r.columns:
            r[col] = np.nan
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
                "threads": "/".join(str(int(t)) for t in sorted(ok["threads"].dropna().unique())),
                "load_avg_max": pd.to_numeric(ok["load_avg"], errors="coerce").max(),
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
    a = 100 * values.dropna().to_numpy(float)
    if a.size == 0:
        return None
    if a.size == 1:
        return f"{a[0]:.1f} (n=1)"
    std = 0.0 if np.all(a == a[0]) else a.std(ddof=1)
    return f"{a.mean():.1f} ± {std:.1f} (n={a.size})"


def anchors_table(
    runs: pd.DataFrame, reference: str = REFERENCE, anchors: Sequence[str] = ANCHORS
) -> pd.DataFrame:
    """Mean ± std (n) of test accuracy in percent over all runs (failures at chance), one row per
    (dataset, depth, setting), one column per model: the anchors first, then the reference, then
    the other Landau variants."""
    r = normalise_runs(runs)
    ok = r[r["accuracy"].notna()]
    index = ["dataset", "depth", "source", "epochs"]
    if ok.empty:
        return pd.DataFrame(columns=[*index, *anchors, reference])
    cells = ok.groupby([*index, "variant"], dropna=False)["accuracy"].agg(_cell)
    table = cells.unstack("variant")
    order = _anchor_order(list(table.columns), reference, anchors)
    table = table.reindex(columns=order).rename_axis(columns=None).reset_index()
    return table.sort_values(index, na_position="last").reset_index(drop=True)


def _anchor_order(names: list[str], reference: str, anchors: Sequence[str]) -> list[str]:
    """Anchors (even when absent, so the table shows their missing column), reference, others."""
    rest = sorted(n for n in names if n != reference and n not in anchors)
    return [*anchors, reference, *rest]


def tuned_params_table(trials: pd.DataFrame) -> pd.DataFrame:
    """The best complete trial of every study (highest value; the lowest trial number on ties):
    study, variant, dataset, depth, n_trials, best value (validation accuracy, percent) and one
    column per tuned parameter (`param_` prefix dropped; blank where a study has no such
    parameter)."""
    t = with_columns(trials, "trials")
    params = sorted(c for c in t.columns if str(c).startswith("param_"))
    cols = ["study_name", "variant", "dataset", "depth", "n_trials", "best_trial", "best"]
    done = t[(t["state"].astype(str).str.upper() == "COMPLETE") & t["value"].notna()]
    if done.empty:
        return pd.DataFrame(columns=[*cols, *(p.removeprefix("param_") for p in params)])
    counts = t.groupby("study_name").size()
    best = done.sort_values(["study_name", "value", "number"], ascending=[True, False, True])
    best = best.drop_duplicates("study_name", keep="first")
    out = best.assign(
        n_trials=best["study_name"].map(counts).to_numpy(),
        best_trial=best["number"],
        best=100 * best["value"],
    )
    out = out[[*cols, *params]].rename(columns={p: p.removeprefix("param_") for p in params})
    out = out.dropna(axis=1, how="all")
    return _finish(out.to_dict("records"), list(out.columns), ["variant", "dataset", "depth"])


def importances_table(importances: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """Parameter importance per study: study, variant, dataset, depth, its number of trials,
    `reliable` ("yes", or "no: < 20 trials") and one column per parameter (blank where the
    study does not search it)."""
    imp = with_columns(importances, "importances")
    imp = imp[imp["importance"].notna() & imp["param"].notna()]
    cols = ["study_name", "variant", "dataset", "depth", "n_trials", "reliable"]
    if imp.empty:
        return pd.DataFrame(columns=cols)
    counts = with_columns(trials, "trials").groupby("study_name").size()
    wide = imp.pivot_table(
        index=["study_name", "variant", "dataset", "depth"], columns="param",
        values="importance", aggfunc="mean",
    ).rename_axis(columns=None).reset_index()  # fmt: skip
    n = wide["study_name"].map(counts)
    wide.insert(4, "n_trials", n.astype("Int64"))
    few = f"no: < {FEW_TRIALS} trials"
    wide.insert(5, "reliable", np.where(n.fillna(0) >= FEW_TRIALS, "yes", few))
    return sort_by_variant(wide, ["variant", "dataset", "depth", "study_name"])
