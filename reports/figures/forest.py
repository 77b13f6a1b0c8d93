"""The forest plot of the first page: each component's paired effect (reference − ablation),
one panel per protocol (fixed, tuned), one row per dataset and one pooled row per component,
datasets as units as in the claims (reports.claims.units); and the appendix figure with every
(dataset, depth) cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.claims.base import protocol_mask
from reports.claims.units import hodges_lehmann
from reports.contributions import PRIMARY, SURVIVORS
from reports.data import FIXED, TUNED, variant_order
from reports.figures._base import DPI, FigureResult, dataset_order, missing, panels, save

__all__ = ["forest_cells_figure", "forest_figure", "forest_rows"]

MAX_HEIGHT_PX = 1600
_BOUND = 100.0  # an interval side at ±100 pp is unbounded (too few datasets), not data


def _setting(cells: pd.DataFrame) -> pd.DataFrame:
    """One variant's cells of one protocol on the setting with the most datasets (then pairs),
    each (dataset, depth) at its largest epochs: the selection the claims make."""
    size = cells.groupby("source").agg(n_ds=("dataset", "nunique"), n=("n_pairs", "sum"))
    source = min(size.index, key=lambda s: (-size.loc[s, "n_ds"], -size.loc[s, "n"], s))
    c = cells[cells["source"] == source]
    return c[c["epochs"] == c.groupby(["dataset", "depth"])["epochs"].transform("max")]


def forest_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows the forest draws: per (protocol, variant), each dataset's mean over its cells of
    the chance-normalised difference (with the range of its cells), then the pooled
    Hodges–Lehmann estimate over datasets with its Wilcoxon-inverted 95% interval."""
    rows = []
    for protocol in (FIXED, TUNED):
        c = cells[protocol_mask(cells["source"], protocol)]
        for variant in variant_order(c["variant"]):
            sub = _setting(c[c["variant"] == variant])
            by_ds = sub.groupby("dataset")["diff_normalised_pp"].agg(["mean", "min", "max"])
            by_ds = by_ds.loc[dataset_order(by_ds.index)]
            est, lo, hi = hodges_lehmann(by_ds["mean"].to_numpy(float))
            rows.append({"protocol": protocol, "variant": variant, "level": "pooled",
                         "label": f"{variant}: pooled ({len(by_ds)} datasets)",
                         "estimate": est, "low": lo, "high": hi})  # fmt: skip
            for ds, r in by_ds.iterrows():
                rows.append({"protocol": protocol, "variant": variant, "level": "dataset",
                             "label": f"{ds}", "estimate": r["mean"], "low": r["min"],
                             "high": r["max"]})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["protocol", "variant", "level", "label", "estimate", "low", "high"]
    )


def _xlim(rows: pd.DataFrame) -> tuple[float, float]:
    values = pd.concat([rows["estimate"], rows["low"], rows["high"]]).to_numpy(float)
    values = values[np.isfinite(values) & (np.abs(values) < _BOUND)]
    lo, hi = min(0.0, *values), max(0.0, *values)
    pad = 0.08 * (hi - lo) or 1.0
    return lo - pad, hi + pad


def forest_figure(cells: pd.DataFrame, path: str | Path, reference: str = "full") -> FigureResult:
    """One panel per protocol: for each ablation variant, its pooled effect over datasets
    (red diamond, Hodges–Lehmann estimate with the Wilcoxon-inverted 95% interval; an arrow
    where too few datasets leave a side unbounded) and each dataset's mean over its depths
    (dot, line: the range of its depths), in pp of chance-normalised accuracy, primary
    analysis. Positive: the component helps."""
    if cells.empty:
        return missing(f"no ablation variant has runs paired with {reference!r}")
    cells = cells[cells["variant"] != reference]
    rows = forest_rows(cells)
    if rows.empty:
        return missing("no paired runs under the fixed or tuned protocol")
    protocols = [p for p in (FIXED, TUNED) if (rows["protocol"] == p).any()]
    n_rows = int(rows.groupby("protocol").size().max())
    height = min((MAX_HEIGHT_PX - 20) / DPI, 1.3 + 0.2 * n_rows)
    fig, axes = panels(len(protocols), ncols=len(protocols), size=(5.2, height))
    xlim = _xlim(rows)
    for ax, protocol in zip(axes, protocols, strict=True):
        sub = rows[rows["protocol"] == protocol].reset_index(drop=True)
        for y, r in sub.iterrows():
            pooled = r["level"] == "pooled"
            unbounded_lo, unbounded_hi = (
                pooled and abs(b) >= _BOUND for b in (r["low"], r["high"])
            )
            lo = r["estimate"] if unbounded_lo else max(r["low"], xlim[0])
            hi = r["estimate"] if unbounded_hi else min(r["high"], xlim[1])
            err = np.nan_to_num(np.array([[r["estimate"] - lo], [hi - r["estimate"]]]))
            ax.errorbar(
                r["estimate"], y, xerr=np.maximum(err, 0), fmt="D" if pooled else "o",
                color="C3" if pooled else "C0", ms=6 if pooled else 3.5, capsize=2,
                lw=1.4 if pooled else 0.8,
            )  # fmt: skip
            for side, bound in ((-1, r["low"]), (1, r["high"])):
                if pooled and abs(bound) >= _BOUND:  # unbounded: an arrow to the edge
                    edge = xlim[0] if side < 0 else xlim[1]
                    arrow = {"arrowstyle": "->", "color": "C3", "lw": 0.8}
                    ax.annotate("", (edge, y), (r["estimate"], y), arrowprops=arrow)
        labels = [
            lb if lv == "pooled" else f"    {lb}"
            for lv, lb in zip(sub["level"], sub["label"], strict=True)
        ]
        ax.set_yticks(range(len(sub)), labels, fontsize="x-small")
        for tick, level in zip(ax.get_yticklabels(), sub["level"], strict=True):
            tick.set_fontweight("bold" if level == "pooled" else "normal")
        ax.set_ylim(len(sub) - 0.5, -0.5)
        ax.set_xlim(*xlim)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(protocol)
        ax.set_xlabel(f"{reference} − ablation (pp, chance-normalised)")
    fig.suptitle(
        f"Paired effect of each component ({reference} − ablation; > 0: it helps)\n"
        "◆ pooled over datasets: Hodges–Lehmann, 95% Wilcoxon interval\n(→ unbounded: fewer "
        "than 6 datasets); ● each dataset, line: the range of its depths",
        fontsize="small",
    )
    return save(fig, path)


def _cell_rows(cells: pd.DataFrame) -> pd.DataFrame:
    order = {d: i for i, d in enumerate(dataset_order(cells["dataset"].dropna()))}
    c = cells.assign(_d=cells["dataset"].map(order))
    return c.sort_values(["_d", "depth", "source", "epochs"]).drop(columns="_d")


def _protocol_label(source: str) -> str:
    base = str(source).split("|")[0]
    swept = str(source)[len(base) :]
    if base == "study":
        return f"tuned{swept}"
    return f"fixed{swept}" if base.startswith("preset:") or base == "defaults" else str(source)


def forest_cells_figure(
    cells: pd.DataFrame, pooled: pd.DataFrame, path: str | Path, reference: str = "full"
) -> FigureResult:
    """Appendix: one panel per ablation variant, each (dataset, depth) cell's mean paired
    difference in pp with its t-interval (× fewer than 5 pairs), then the pooled rows of
    reports.contributions (cells as units, a description of the cells, not the claims' test)."""
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
            setting = "" if sub["source"].nunique() == 1 else f" ({_protocol_label(row['source'])})"
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
                short = "cells pooled" if analysis == PRIMARY else "cells pooled, survivors"
                labels.append(f"{short} ({_protocol_label(row['source'])}, {int(row['n_cells'])})")
                y += 1
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(labels)), labels, fontsize="small")
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(f"{reference} − {variant}")
        ax.set_xlabel("difference (pp)")
    fig.suptitle(
        f"Appendix: paired effect per (dataset, depth) cell ({reference} − ablation, pp)\n"
        "95% t-interval (× fewer than 5 pairs); ◆ mean over cells, chance-normalised "
        "(filled: failures at chance; hollow: survivors only)",
        fontsize="small",
    )
    return save(fig, path)
