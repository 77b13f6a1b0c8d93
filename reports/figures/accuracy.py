"""Accuracy figures: per-variant test accuracy with intervals and every run, and the cost–accuracy
front. Accuracy is in percent on a [0, 100] axis with the chance level drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from reports.data import normalise_runs, variant_order
from reports.figures._base import (
    FigureResult,
    colours,
    dataset_order,
    group_datasets,
    legend_once,
    missing,
    panels,
    save,
)
from reports.stats import pareto_front
from reports.tables import accuracy_table

__all__ = [
    "MAX_PANELS",
    "accuracy_figure",
    "accuracy_groups",
    "chance_line",
    "cost_accuracy_figure",
    "percent_axis",
    "setting_label",
]


MAX_PANELS = 15  # per accuracy figure (5 rows of 3): more datasets make more figures
_SOURCE_LABELS = {"defaults": "fixed", "study": "tuned", "preset:blog": "blog preset"}
_SOURCE_ORDER = ("defaults", "study", "preset:blog")


def setting_label(source: str, epochs: int) -> str:
    """`fixed, 10 epochs` / `tuned, 10 epochs` / `blog preset, 100 epochs` (the README's words)."""
    return f"{_SOURCE_LABELS.get(source, source)}, {epochs} epochs"


def _unswept(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of settings that are not sweeps (a swept setting's source carries `|param=value`):
    the sweeps have their own figures."""
    return table[~table["source"].astype(str).str.contains("|", regex=False)]


def _cells(table: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(dataset, source, epochs) panels: datasets in report order, then fixed, tuned, blog
    preset and any other setting, each by epochs."""
    rank = {s: i for i, s in enumerate(_SOURCE_ORDER)}
    cells = []
    for dataset in dataset_order(table["dataset"].dropna()):
        sub = table[table["dataset"] == dataset]
        settings = sub[["source", "epochs"]].drop_duplicates().itertuples(index=False)
        ordered = sorted(
            settings, key=lambda s: (rank.get(s.source, len(rank)), s.source, s.epochs)
        )
        cells += [(dataset, s.source, int(s.epochs)) for s in ordered]
    return cells


def accuracy_groups(runs: pd.DataFrame, max_panels: int = MAX_PANELS) -> list[list[str]]:
    """The datasets of each accuracy figure: consecutive datasets whose panels (one per
    unswept setting) number at most `max_panels` together (a dataset never split)."""
    table = _unswept(accuracy_table(runs))
    counts = [
        (d, len(table.loc[table["dataset"] == d, ["source", "epochs"]].drop_duplicates()))
        for d in dataset_order(table["dataset"].dropna())
    ]
    return group_datasets(counts, max_panels)


def chance_line(ax: Axes, runs: pd.DataFrame, dataset: str, horizontal: bool = True) -> None:
    """The chance level (majority-class rate, percent) of `dataset` as a dotted line."""
    chance = runs.loc[runs["dataset"] == dataset, "chance_accuracy"].dropna()
    if chance.empty:
        return
    level = 100 * float(chance.mean())
    line = ax.axhline if horizontal else ax.axvline
    line(level, color="k", ls=":", lw=1, label="chance level", zorder=1)


def percent_axis(ax: Axes, horizontal: bool = True) -> None:
    """Accuracy axes run over [0, 100] percent, never beyond."""
    (ax.set_ylim if horizontal else ax.set_xlim)(0, 100)


def _runs_of(runs: pd.DataFrame, row: pd.Series, dataset: str) -> pd.DataFrame:
    keys = ["variant", "depth", "source", "epochs"]
    sel = runs["dataset"] == dataset
    for k in keys:
        sel &= runs[k] == row[k]
    return runs[sel]


def _dots(ax: Axes, g: pd.DataFrame, x: float) -> None:
    """Every run as a dot: hollow for ok runs, a red × for collapsed runs, a black triangle at
    chance for diverged/failed runs (counted as failures)."""
    kinds = [
        (g["survived"] & ~g["collapsed"], dict(marker="o", mfc="none", color="0.35", ms=4,
                                                label="run")),
        (g["collapsed"], dict(marker="x", color="red", ms=5, label="collapsed run")),
        (~g["survived"], dict(marker="v", color="k", ms=5, label="diverged/failed (at chance)")),
    ]  # fmt: skip
    for mask, style in kinds:
        y = 100 * g.loc[mask, "accuracy"].to_numpy(float)
        if y.size:
            jitter = np.linspace(-0.05, 0.05, y.size) if y.size > 1 else np.zeros(1)
            ax.plot(x + 0.1 + jitter, y, ls="none", alpha=0.8, zorder=4, **style)


def accuracy_figure(
    runs: pd.DataFrame, path: str | Path, datasets: list[str] | None = None
) -> FigureResult:
    """Mean test accuracy (percent) per variant with Anderson's distribution-free 95% interval,
    every run as a dot (collapsed and failed runs marked), and the chance level; one panel per
    dataset and setting (fixed, tuned, blog preset; each number of epochs), one colour per
    depth, so the legend stays short. Swept settings are left to the sweep figures; `datasets`
    limits the figure to those (accuracy_groups: figures of at most MAX_PANELS panels)."""
    table = accuracy_table(runs)
    table = table[table["n"] > 0]
    n_swept = len(table) - len(_unswept(table))
    table = _unswept(table)
    if datasets is not None:
        table = table[table["dataset"].isin(datasets)]
    if table.empty:
        return missing("no runs with a test accuracy or a known chance level")
    r = normalise_runs(runs)
    depths = sorted(table["depth"].dropna().unique())
    spread = np.linspace(-0.2, 0.2, len(depths)) if len(depths) > 1 else [0.0]
    offsets = dict(zip(depths, spread, strict=True))
    depth_colours = {d: f"C{i % 10}" for i, d in enumerate(depths)}
    markers = {d: "osD^v<>p*h"[i % 10] for i, d in enumerate(depths)}
    cells = _cells(table)
    fig, axes = panels(len(cells), ncols=3, size=(5.0, 3.2))
    for ax, (dataset, source, epochs) in zip(axes, cells, strict=True):
        sub = table[
            (table["dataset"] == dataset)
            & (table["source"] == source)
            & (table["epochs"] == epochs)
        ]
        variants = variant_order(sub["variant"])
        xpos = {v: i for i, v in enumerate(variants)}
        for depth, g in sub.groupby("depth"):
            x = g["variant"].map(xpos).to_numpy(float) + offsets[depth]
            yerr = np.vstack([g["mean"] - g["ci95_low"], g["ci95_high"] - g["mean"]])
            ax.errorbar(
                x, g["mean"], yerr=np.nan_to_num(yerr), fmt=markers[depth], capsize=3,
                label=f"depth {int(depth)}", color=depth_colours[depth], zorder=3,
            )  # fmt: skip
            for xi, (_, row) in zip(x, g.iterrows(), strict=True):
                _dots(ax, _runs_of(r, row, dataset), xi)
        chance_line(ax, r, dataset)
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        percent_axis(ax)
        ax.set_title(f"{dataset} · {setting_label(source, epochs)}", fontsize="medium")
        ax.set_ylabel("test accuracy (%)")
    legend_once(fig, axes, below=True)
    swept = "; swept settings: in the sweep figures" if n_swept else ""
    fig.suptitle(
        "Test accuracy: mean and distribution-free 95% interval over all runs (failures at "
        f"chance); every run shown{swept}"
    )
    return save(fig, path)


def cost_accuracy_figure(runs: pd.DataFrame, path: str | Path) -> FigureResult:
    """Mean wall seconds per run against mean test accuracy per (variant, depth, setting), one
    panel per dataset, with the Pareto front (no point is both cheaper and more accurate)."""
    r = normalise_runs(runs)
    ok = r[r["accuracy"].notna() & r["seconds"].notna()]
    if ok.empty:
        return missing("no runs with both a test accuracy and wall seconds")
    ok = ok.assign(acc_pct=100 * ok["accuracy"])
    keys = ["dataset", "variant", "depth", "source", "epochs"]
    means = ok.groupby(keys, dropna=False)[["seconds", "acc_pct"]].mean().reset_index()
    palette = colours(means["variant"])
    datasets = dataset_order(means["dataset"].dropna())
    fig, axes = panels(len(datasets), ncols=3, size=(4.6, 3.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        sub = means[means["dataset"] == dataset]
        each = ok[ok["dataset"] == dataset]
        ax.scatter(each["seconds"], each["acc_pct"], s=6, color="0.6", zorder=2, label="run")
        for (variant, depth), g in sub.groupby(["variant", "depth"], dropna=False):
            ax.scatter(
                g["seconds"],
                g["acc_pct"],
                color=palette[variant],
                label=variant,
                marker="o" if depth == 1 else "s",
                edgecolor="k",
                linewidth=0.5,
                zorder=3,
            )
        front = sub[pareto_front(sub["seconds"], sub["acc_pct"])].sort_values("seconds")
        ax.step(
            front["seconds"],
            front["acc_pct"],
            where="post",
            color="k",
            lw=1,
            ls="--",
            label="Pareto front",
            zorder=2,
        )
        if (sub["seconds"] > 0).all():
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(dataset)
        chance_line(ax, r, dataset)
        percent_axis(ax)
        ax.set_xlabel("wall seconds per run (mean)")
        ax.set_ylabel("test accuracy (%, mean; dots: runs)")
    legend_once(fig, axes)
    fig.suptitle("Cost–accuracy per variant (marker ● depth 1, ■ depth 2; dashed: Pareto front)")
    return save(fig, path)
