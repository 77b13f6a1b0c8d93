"""Tuning figures: the value of every trial, the best value so far, parameter importances."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from reports.data import variant_order, with_columns
from reports.figures._base import (
    FigureResult,
    colours,
    dataset_cells,
    group_datasets,
    legend_once,
    missing,
    panels,
    save,
)
from reports.tables.convergence import best_so_far
from reports.tables.descriptive import FEW_TRIALS

__all__ = [
    "FEW_TRIALS",
    "MAX_STUDY_ROWS",
    "MAX_TUNING_PANELS",
    "best_so_far_figure",
    "importances_figure",
    "tuning_groups",
    "tuning_history_figure",
]

MAX_TUNING_PANELS = 42  # 6 columns × 7 rows of 2.2 in: within 1 600 × 1 600 px


def _trials(trials: pd.DataFrame) -> pd.DataFrame:
    t = with_columns(trials, "trials")
    return t[t["number"].notna() & t["variant"].notna()].sort_values("number")


def _cells(t: pd.DataFrame) -> list[tuple[str, float]]:
    return dataset_cells(t, "depth")


def _title(dataset: str, depth: float) -> str:
    return f"{dataset} · depth {int(depth)}"


def tuning_history_figure(
    trials: pd.DataFrame, path: str | Path, datasets: list[str] | None = None
) -> FigureResult:
    """Objective value (validation accuracy) of every trial by trial number, one panel per
    (dataset, depth) of `datasets` (default: all; tuning_groups splits many), one colour per
    variant; stars mark the blog-preset trial, crosses pruned."""
    t = _trials(trials)
    t = t[t["value"].notna()]
    if datasets is not None:
        t = t[t["dataset"].isin(datasets)]
    cells = _cells(t)
    if not cells:
        return missing("no trials with a value")
    _check_panels(len(cells))
    palette = colours(t["variant"])
    ncols, size = _grid(len(cells))
    fig, axes = panels(len(cells), ncols=ncols, size=size)
    for ax, (dataset, depth) in zip(axes, cells, strict=True):
        sub = t[(t["dataset"] == dataset) & (t["depth"] == depth)]
        for variant in variant_order(sub["variant"]):
            g = sub[sub["variant"] == variant]
            pruned = g["state"].astype(str).str.upper() == "PRUNED"
            blog = g["source"].astype(str) == "preset:blog"
            c = palette[variant]
            ax.scatter(
                g.loc[~pruned & ~blog, "number"],
                g.loc[~pruned & ~blog, "value"],
                s=12,
                color=c,
                label=variant,
                alpha=0.8,
            )
            ax.scatter(g.loc[pruned, "number"], g.loc[pruned, "value"], s=14, color=c, marker="x")
            ax.scatter(
                g.loc[blog, "number"],
                g.loc[blog, "value"],
                s=70,
                color=c,
                marker="*",
                edgecolor="k",
                linewidth=0.5,
            )
        ax.set_title(_title(dataset, depth), fontsize="medium" if ncols <= 3 else "small")
        ax.set_xlabel("trial number (★ blog preset, × pruned)")
        ax.set_ylabel("objective (val accuracy)")
    legend_once(fig, axes)
    fig.suptitle("Tuning history: objective of every trial")
    return save(fig, path)


def tuning_groups(trials: pd.DataFrame, max_panels: int = MAX_TUNING_PANELS) -> list[list[str]]:
    """The datasets of each best-so-far figure: consecutive datasets whose (dataset, depth)
    panels number at most `max_panels` together (a dataset never split)."""
    t = _trials(trials)
    cells = _cells(t[t["value"].notna()])  # the history's panels: the best-so-far's and more
    counts = [(d, sum(c == d for c, _ in cells)) for d in dict.fromkeys(d for d, _ in cells)]
    return group_datasets(counts, max_panels)


def _check_panels(n: int) -> None:
    if n > MAX_TUNING_PANELS:
        raise ValueError(
            f"at most {MAX_TUNING_PANELS} panels fit one figure, but got {n}; draw "
            "tuning_groups(trials) one figure each"
        )


def _grid(n: int) -> tuple[int, tuple[float, float]]:
    """Columns and panel size: 3 wide panels up to 9, else 6 small ones (15.6 in: 1 560 px)."""
    return (3, (4.2, 3.0)) if n <= 9 else (6, (2.6, 2.2))


def best_so_far_figure(
    trials: pd.DataFrame, path: str | Path, datasets: list[str] | None = None
) -> FigureResult:
    """Best validation accuracy (%) of the complete trials so far against the number of trials
    run (reports.tables.convergence.best_so_far), one panel per (dataset, depth) of `datasets`
    (default: all; tuning_groups splits many), one line per study coloured by variant. A line
    still rising at the right end: tuning had not converged."""
    curve = best_so_far(trials)
    if datasets is not None:
        curve = curve[curve["dataset"].isin(datasets)]
    cells = _cells(curve[curve["best"].notna()])
    if not cells:
        return missing("no complete trials with a value")
    _check_panels(len(cells))
    palette = colours(curve["variant"])
    ncols, size = _grid(len(cells))
    fig, axes = panels(len(cells), ncols=ncols, size=size)
    for ax, (dataset, depth) in zip(axes, cells, strict=True):
        sub = curve[(curve["dataset"] == dataset) & (curve["depth"] == depth)]
        for variant in variant_order(sub["variant"]):
            for _, g in sub[sub["variant"] == variant].groupby("study_name", dropna=False):
                ax.step(g["trial"], 100 * g["best"], where="post", color=palette[variant],
                        label=variant)  # fmt: skip
        ax.set_title(_title(dataset, depth), fontsize="medium" if ncols <= 3 else "small")
        ax.set_xlabel("trials run")
        ax.set_ylabel("best val acc so far (%)")
    legend_once(fig, axes)
    fig.suptitle("Best validation accuracy found vs number of trials (flat: converged)")
    return save(fig, path)


MAX_STUDY_ROWS = 30  # more studies than this: one heatmap row per variant (mean over studies)


def importances_figure(
    importances: pd.DataFrame, path: str | Path, trials: pd.DataFrame | None = None
) -> FigureResult:
    """Heatmap of parameter importance for the studies that ran at least FEW_TRIALS trials
    (counted in `trials`; fewer make importances noise more than signal: the importances table
    lists those, with the caveat). Rows are studies (variant · dataset · depth, with their
    trial count), or, beyond MAX_STUDY_ROWS studies, variants (mean over their studies);
    columns parameters (blank where a study does not search that parameter)."""
    imp = with_columns(importances, "importances")
    imp = imp[imp["importance"].notna() & imp["param"].notna()]
    if imp.empty:
        return missing("no parameter importances")
    counts = with_columns(trials, "trials").groupby("study_name").size()
    n = imp["study_name"].map(counts)
    imp = imp.assign(n_trials=n)[n >= FEW_TRIALS]
    if imp.empty:
        return missing(
            f"no study ran {FEW_TRIALS} trials or more (importances from fewer are noise more "
            "than signal; the importances table lists them)"
        )
    depth = imp["depth"].map(lambda d: "?" if pd.isna(d) else str(int(d)))
    n_studies = imp["study_name"].nunique()
    if n_studies > MAX_STUDY_ROWS:
        per = imp.groupby("variant")["study_name"].nunique()
        row = imp["variant"].astype(str) + imp["variant"].map(lambda v: f" ({per[v]} studies)")
        what = f"mean over each variant's studies ({n_studies} studies)"
    else:
        row = (
            imp["variant"].astype(str) + " · " + imp["dataset"].astype(str) + " · depth "
            + depth + imp["n_trials"].map(lambda k: f" ({int(k)} trials)")
        )  # fmt: skip
        what = f"{n_studies} studies with ≥ {FEW_TRIALS} trials"
    grid = imp.assign(row=row).pivot_table(
        index="row", columns="param", values="importance", aggfunc="mean"
    )
    grid = grid.sort_index()
    evaluators = ", ".join(sorted(imp["evaluator"].dropna().astype(str).unique())) or "unknown"
    width = max(6.5, 4.0 + 0.9 * grid.shape[1])
    fig, axes = panels(1, ncols=1, size=(width, 2.0 + 0.4 * len(grid)))
    ax = axes[0]
    annotate = grid.shape[1] <= 12
    sns.heatmap(
        grid, ax=ax, annot=annotate, fmt=".2f", cmap="viridis", vmin=0,
        cbar_kws={"label": "importance"},
    )  # fmt: skip
    ax.set_xlabel("parameter")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=45)
    ax.set_title(f"Parameter importances ({what})\nevaluator: {evaluators}", fontsize="medium")
    return save(fig, path)
