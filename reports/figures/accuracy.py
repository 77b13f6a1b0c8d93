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
    legend_once,
    missing,
    panels,
    save,
)
from reports.stats import pareto_front
from reports.tables import accuracy_table

__all__ = ["accuracy_figure", "chance_line", "cost_accuracy_figure", "percent_axis"]


def _hue_labels(table: pd.DataFrame) -> pd.Series:
    """`depth d`, plus the setting when the frame mixes several."""
    label = "depth " + table["depth"].astype("string").fillna("?")
    settings = table["source"].astype(str) + "/" + table["epochs"].astype(str) + " ep"
    return label + ", " + settings if settings.nunique() > 1 else label


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


def accuracy_figure(runs: pd.DataFrame, path: str | Path) -> FigureResult:
    """Mean test accuracy (percent) per variant with Anderson's distribution-free 95% interval,
    every run as a dot (collapsed and failed runs marked), and the chance level; one panel per
    dataset, depth (and setting, if mixed) as hue."""
    table = accuracy_table(runs)
    table = table[table["n"] > 0]
    if table.empty:
        return missing("no runs with a test accuracy or a known chance level")
    table = table.assign(hue=_hue_labels(table).to_numpy())
    r = normalise_runs(runs)
    hues = sorted(table["hue"].unique())
    spread = np.linspace(-0.25, 0.25, len(hues)) if len(hues) > 1 else [0.0]
    offsets = dict(zip(hues, spread, strict=True))
    markers = {h: "osD^v<>p*h"[i % 10] for i, h in enumerate(hues)}
    hue_colours = {h: f"C{i % 10}" for i, h in enumerate(hues)}
    datasets = dataset_order(table["dataset"].dropna())
    fig, axes = panels(len(datasets), ncols=3, size=(5.0, 3.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        sub = table[table["dataset"] == dataset]
        variants = variant_order(sub["variant"])
        xpos = {v: i for i, v in enumerate(variants)}
        for hue, g in sub.groupby("hue"):
            x = g["variant"].map(xpos).to_numpy(float) + offsets[hue]
            yerr = np.vstack([g["mean"] - g["ci95_low"], g["ci95_high"] - g["mean"]])
            ax.errorbar(
                x, g["mean"], yerr=np.nan_to_num(yerr), fmt=markers[hue], capsize=3,
                label=hue, color=hue_colours[hue], zorder=3,
            )  # fmt: skip
            for xi, (_, row) in zip(x, g.iterrows(), strict=True):
                _dots(ax, _runs_of(r, row, dataset), xi)
        chance_line(ax, r, dataset)
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        percent_axis(ax)
        ax.set_title(dataset)
        ax.set_ylabel("test accuracy (%)")
    legend_once(fig, axes)
    fig.suptitle(
        "Test accuracy: mean and distribution-free 95% interval over all runs (failures at "
        "chance); every run shown"
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
