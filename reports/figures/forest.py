"""The forest plot of the first page: each component's paired effect (full − ablation) per
(dataset, depth) cell and pooled, with 95% intervals, in percentage points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.contributions import PRIMARY, SURVIVORS
from reports.data import variant_order
from reports.figures._base import FigureResult, dataset_order, missing, panels, save

__all__ = ["forest_figure"]


def _cell_rows(cells: pd.DataFrame) -> pd.DataFrame:
    order = {d: i for i, d in enumerate(dataset_order(cells["dataset"].dropna()))}
    c = cells.assign(_d=cells["dataset"].map(order))
    return c.sort_values(["_d", "depth", "source", "epochs"]).drop(columns="_d")


def forest_figure(
    cells: pd.DataFrame, pooled: pd.DataFrame, path: str | Path, reference: str = "full"
) -> FigureResult:
    """One panel per ablation variant. Rows: each (dataset, depth) cell's mean paired difference
    reference − variant in pp of test accuracy with its t-interval (dots; a grey × for cells whose
    difference rests on fewer than 5 pairs), then the pooled estimate over cells in pp of
    chance-normalised accuracy (filled diamond: primary analysis, failures at chance; hollow:
    survivors only). Positive: the component helps."""
    if cells.empty:
        return missing(f"no ablation variant has runs paired with {reference!r}")
    variants = [v for v in variant_order(cells["variant"]) if v != reference]
    heights = [len(cells[cells["variant"] == v]) + 3 for v in variants]
    fig, axes = panels(len(variants), ncols=min(3, len(variants)), size=(4.6, 0.32 * max(heights)))
    for ax, variant in zip(axes, variants, strict=True):
        sub = _cell_rows(cells[cells["variant"] == variant])
        labels, y = [], 0
        for _, row in sub.iterrows():
            few = row["n_pairs"] < 5
            err = np.array(
                [[row["diff_pp"] - row["ci95_low"]], [row["ci95_high"] - row["diff_pp"]]]
            )
            ax.errorbar(
                row["diff_pp"], y, xerr=np.nan_to_num(err), fmt="x" if few else "o",
                color="0.45" if few else "C0", capsize=2, ms=4,
            )  # fmt: skip
            setting = "" if sub["source"].nunique() == 1 else f" ({row['source']})"
            labels.append(f"{row['dataset']} · d{int(row['depth'])}{setting} n={row['n_pairs']}")
            y += 1
        pv = pooled[pooled["variant"] == variant]
        for analysis, face in ((PRIMARY, "C3"), (SURVIVORS, "none")):
            for _, row in pv[pv["analysis"] == analysis].iterrows():
                err = np.array(
                    [
                        [row["estimate_pp"] - row["ci95_low"]],
                        [row["ci95_high"] - row["estimate_pp"]],
                    ]
                )
                ax.errorbar(
                    row["estimate_pp"], y, xerr=np.nan_to_num(err), fmt="D", color="C3",
                    mfc=face, capsize=3, ms=6,
                )  # fmt: skip
                short = "pooled" if analysis == PRIMARY else "pooled, survivors"
                labels.append(f"{short} ({int(row['n_cells'])} cells, normalised)")
                y += 1
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(labels)), labels, fontsize="small")
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(f"{reference} − {variant}")
        ax.set_xlabel("difference (pp)")
    fig.suptitle(
        f"Paired effect of each component ({reference} − ablation, pp; > 0: it helps)\n"
        "cells: test accuracy, 95% t-interval (× fewer than 5 pairs); ◆ pooled over cells, pp "
        "of chance-normalised accuracy (filled: failures at chance; hollow: survivors only)",
        fontsize="small",
    )
    return save(fig, path)
