"""Two experiments compared run by run: a baseline A and a change B.

Runs match when they share (variant, dataset, depth, seed, data_seed): seeds are derived from
those, so a matched pair saw the same data split and initialisation seed, and the comparison is
paired. Each variant is compared with itself: per (dataset, depth) cell the mean paired
difference B − A in percentage points of test accuracy, its t-interval and the exact sign-flip
test; pooled over cells, the mean of the chance-normalised differences with a t-interval over
cells and Wilcoxon's signed-rank test — the statistics of the component contributions
(reports.contributions), with failed and diverged runs at chance. Holm corrects the cells, and
separately the pooled rows, for the number of comparisons.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.contributions import PRIMARY, SURVIVORS, cell_contributions, pooled_contributions
from reports.data import variant_order
from reports.figures._base import FigureResult, dataset_order, missing, panels, save
from reports.stats import holm

__all__ = ["MATCH", "compare_experiments", "compare_figure"]

MATCH = ["variant", "dataset", "depth", "seed", "data_seed"]
_A, _B = "\x00a", "\x00b"  # side labels that no variant can be called
_RENAME = {"mean_reference": "mean_b", "mean_variant": "mean_a"}


def _side(runs: pd.DataFrame, variant: str, label: str) -> pd.DataFrame:
    part = runs[runs["variant"] == variant].copy()
    part["variant"] = label
    # A and B may differ in their setting (epochs, tuned or not): that is what is compared,
    # so the setting is not part of the match
    part["params_source"], part["epochs"] = "compared", 0
    return part


def compare_experiments(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """(cells, pooled) of B − A for every variant with runs in both. cells: variant, dataset,
    depth, n_pairs, n_failed_pairs, mean_a, mean_b (percent), diff_pp with ci95_low/ci95_high,
    diff_normalised_pp, differences, test, p_value, p_holm. pooled: variant, analysis, n_cells,
    n_datasets, n_pairs, n_failed_pairs, estimate_pp, ci95_low, ci95_high, sd_cells, test,
    p_value, p_holm (primary rows; NaN for the survivors-only rows)."""
    variants = sorted(set(runs_a["variant"].dropna()) & set(runs_b["variant"].dropna()))
    cells, pooled = [], []
    for variant in variants:
        both = pd.concat([_side(runs_a, variant, _A), _side(runs_b, variant, _B)])
        c = cell_contributions(both, reference=_B, anchors=())
        p = pooled_contributions(both, reference=_B, anchors=())
        cells.append(c.assign(variant=variant))
        pooled.append(p.assign(variant=variant))
    drop = ["source", "epochs"]
    if not cells:
        return pd.DataFrame(columns=["variant", "dataset", "depth"]), pd.DataFrame()
    c = pd.concat(cells, ignore_index=True).drop(columns=drop).rename(columns=_RENAME)
    c = c[c["n_pairs"] > 0].reset_index(drop=True)
    c["p_holm"] = holm(c["p_value"].to_numpy(float)) if len(c) else []
    p = pd.concat(pooled, ignore_index=True).drop(columns=drop)
    primary = (p["analysis"] == PRIMARY).to_numpy()
    p_holm = np.full(len(p), np.nan)
    p_holm[primary] = holm(p.loc[primary, "p_value"].to_numpy(float))
    p["p_holm"] = p_holm
    v_rank = {v: i for i, v in enumerate(variant_order(variants))}
    d_rank = {d: i for i, d in enumerate(dataset_order(c["dataset"]))}
    c = c.assign(_v=c["variant"].map(v_rank), _d=c["dataset"].map(d_rank))
    c = c.sort_values(["_v", "_d", "depth"], kind="mergesort").drop(columns=["_v", "_d"])
    p = p.assign(_v=p["variant"].map(v_rank)).sort_values("_v", kind="mergesort")
    p = p.drop(columns="_v")
    return c.reset_index(drop=True), p.reset_index(drop=True)


def _n(row: pd.Series) -> tuple[str, bool]:
    """The cell's label count and whether it is too few for its interval: pairs (paired), or
    runs on each side (unpaired)."""
    if "n_pairs" in row.index:
        return f"n={row['n_pairs']}", row["n_pairs"] < 5
    return f"n={row['n_a']}/{row['n_b']}", min(row["n_a"], row["n_b"]) < 5


def _setting(row: pd.Series, frame: pd.DataFrame) -> str:
    """` · study, 10 ep`: the row's setting, where its variant has several (unpaired cells)."""
    if "source" not in frame.columns or len(frame[["source", "epochs"]].drop_duplicates()) < 2:
        return ""
    return f" · {row['source']}, {row['epochs']} ep"


def compare_figure(
    cells: pd.DataFrame, pooled: pd.DataFrame, path: str | Path, labels: tuple[str, str]
) -> FigureResult:
    """One panel per variant: each (dataset, depth) cell's difference B − A (pp of test
    accuracy, 95% interval; grey × for fewer than 5 pairs, or runs on a side), then the pooled
    estimate (pp of chance-normalised accuracy; filled diamond: failures at chance, hollow:
    survivors only). Paired cells (n_pairs: compare_experiments) show the mean paired
    difference; unpaired ones (n_a, n_b: reports.compare_unpaired) the difference of means."""
    if cells.empty:
        return missing("no run of B matches a run of A")
    paired = "n_pairs" in cells.columns
    a, b = labels
    variants = list(dict.fromkeys(cells["variant"]))
    heights = [len(cells[cells["variant"] == v]) + 3 for v in variants]
    fig, axes = panels(
        len(variants), ncols=min(3, len(variants)), size=(4.6, max(2.4, 0.32 * max(heights)))
    )
    for ax, variant in zip(axes, variants, strict=True):
        sub = cells[cells["variant"] == variant]  # already in dataset, depth order
        labels_y = []
        for y, (_, row) in enumerate(sub.iterrows()):
            n, few = _n(row)
            err = [[row["diff_pp"] - row["ci95_low"]], [row["ci95_high"] - row["diff_pp"]]]
            ax.errorbar(
                row["diff_pp"], y, xerr=np.nan_to_num(np.array(err, float)),
                fmt="x" if few else "o", color="0.45" if few else "C0", capsize=2, ms=4,
            )  # fmt: skip
            labels_y.append(f"{row['dataset']} · d{int(row['depth'])}{_setting(row, sub)} {n}")
        pv = pooled[pooled["variant"] == variant]
        for analysis, face in ((PRIMARY, "C3"), (SURVIVORS, "none")):
            for _, row in pv[(pv["analysis"] == analysis) & (pv["n_cells"] > 0)].iterrows():
                err = [
                    [row["estimate_pp"] - row["ci95_low"]],
                    [row["ci95_high"] - row["estimate_pp"]],
                ]
                # too few units to bound the interval (it is the metric's range): no bar
                unbounded = row["ci95_low"] <= -100 and row["ci95_high"] >= 100
                xerr = None if unbounded else np.nan_to_num(np.array(err, float))
                ax.errorbar(
                    row["estimate_pp"], len(labels_y), xerr=xerr,
                    fmt="D", color="C3", mfc=face, capsize=3, ms=6,
                )  # fmt: skip
                short = "pooled" if analysis == PRIMARY else "survivors only"
                units = "cells" if paired else "datasets"
                n = int(row["n_cells" if paired else "n_datasets"])
                no_bar = ", unbounded" if unbounded else ""
                labels_y.append(f"{short}{_setting(row, pv)} ({n} {units}{no_bar})")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(labels_y)), labels_y, fontsize="small")
        ax.set_ylim(len(labels_y) - 0.5, -0.5)
        ax.set_title(variant)
        ax.set_xlabel(f"{b} − {a} (pp)")
    if paired:
        title = (
            f"Paired difference {b} − {a} per variant (> 0: {b} is better)\n"
            "cells: test accuracy, 95% t-interval (× fewer than 5 pairs)\n◆ pooled over cells, "
            "pp of chance-normalised accuracy\n(filled: failures at chance; hollow: survivors "
            "only; unbounded: too few cells for a 95% bound)"
        )
    else:
        title = (
            f"Unpaired difference of means {b} − {a} per variant (> 0: {b} is better)\n"
            "cells: test accuracy, Welch 95% interval (× fewer than 5 runs on a side)\n"
            "◆ pooled over datasets (Hodges–Lehmann, Wilcoxon interval), pp of chance-normalised "
            "accuracy\n(filled: failures at chance; hollow: survivors only; unbounded: too few "
            "datasets for a 95% bound)"
        )
    fig.suptitle(title, fontsize="small")
    return save(fig, path)
