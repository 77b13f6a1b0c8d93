"""Accuracy figures: per-variant test accuracy with 95% t-intervals, and the cost–accuracy front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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

__all__ = ["accuracy_figure", "cost_accuracy_figure"]


def _hue_labels(table: pd.DataFrame) -> pd.Series:
    """`depth d`, plus the setting when the frame mixes several."""
    label = "depth " + table["depth"].astype("string").fillna("?")
    settings = table["source"].astype(str) + "/" + table["epochs"].astype(str) + " ep"
    return label + ", " + settings if settings.nunique() > 1 else label


def accuracy_figure(runs: pd.DataFrame, path: str | Path) -> FigureResult:
    """Mean test accuracy per variant over ok runs with 95% t-interval bars and the individual
    runs as dots; one panel per dataset, depth (and setting, if mixed) as hue."""
    table = accuracy_table(runs)
    table = table[table["n_ok"] > 0]
    if table.empty:
        return missing("no ok runs with a test accuracy")
    table = table.assign(hue=_hue_labels(table).to_numpy())
    ok = normalise_runs(runs)
    ok = ok[(ok["status"] == "ok") & ok["test_accuracy"].notna()]
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
            yerr = np.vstack([g["mean_ok"] - g["ci95_low_ok"], g["ci95_high_ok"] - g["mean_ok"]])
            ax.errorbar(
                x,
                g["mean_ok"],
                yerr=np.nan_to_num(yerr),
                fmt=markers[hue],
                capsize=3,
                label=hue,
                color=hue_colours[hue],
            )
            for _, row in g.iterrows():
                dots = ok[
                    (ok["variant"] == row["variant"])
                    & (ok["dataset"] == dataset)
                    & (ok["depth"] == row["depth"])
                    & (ok["source"] == row["source"])
                    & (ok["epochs"] == row["epochs"])
                ]["test_accuracy"]
                ax.plot(
                    np.full(len(dots), xpos[row["variant"]] + offsets[hue] + 0.08),
                    dots,
                    ".",
                    color="grey",
                    alpha=0.6,
                    markersize=3,
                )
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        ax.set_title(dataset)
        ax.set_ylabel("test accuracy")
    legend_once(fig, axes)
    fig.suptitle("Test accuracy over ok runs: mean and 95% t-interval (dots: single runs)")
    return save(fig, path)


def cost_accuracy_figure(runs: pd.DataFrame, path: str | Path) -> FigureResult:
    """Mean wall seconds per run against mean test accuracy per (variant, depth, setting), one
    panel per dataset, with the Pareto front (no point is both cheaper and more accurate)."""
    r = normalise_runs(runs)
    ok = r[(r["status"] == "ok") & r["test_accuracy"].notna() & r["seconds"].notna()]
    if ok.empty:
        return missing("no ok runs with both test accuracy and wall seconds")
    keys = ["dataset", "variant", "depth", "source", "epochs"]
    means = ok.groupby(keys, dropna=False)[["seconds", "test_accuracy"]].mean().reset_index()
    palette = colours(means["variant"])
    datasets = dataset_order(means["dataset"].dropna())
    fig, axes = panels(len(datasets), ncols=3, size=(4.6, 3.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        sub = means[means["dataset"] == dataset]
        for (variant, depth), g in sub.groupby(["variant", "depth"], dropna=False):
            ax.scatter(
                g["seconds"],
                g["test_accuracy"],
                color=palette[variant],
                label=variant,
                marker="o" if depth == 1 else "s",
                edgecolor="k",
                linewidth=0.5,
                zorder=3,
            )
        front = sub[pareto_front(sub["seconds"], sub["test_accuracy"])].sort_values("seconds")
        ax.step(
            front["seconds"],
            front["test_accuracy"],
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
        ax.set_xlabel("wall seconds per run (mean)")
        ax.set_ylabel("test accuracy (mean)")
    legend_once(fig, axes)
    fig.suptitle("Cost–accuracy per variant (marker ● depth 1, ■ depth 2; dashed: Pareto front)")
    return save(fig, path)
