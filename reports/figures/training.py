"""Training dynamics: validation-accuracy learning curves, β trajectories, Landau loss terms.

Each curve is the mean over seeds (and units, for β) with a ±1 standard-deviation band.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes

from reports.data import variant_order, with_columns
from reports.figures._base import (
    FigureResult,
    colours,
    dataset_cells,
    dataset_order,
    legend_once,
    missing,
    panels,
    save,
)

__all__ = ["beta_figure", "learning_curves_figure", "loss_terms_figure", "with_curves"]

LOSS_TERMS = ("loss_quadratic", "loss_quartic", "loss_spatial")
_STYLES = {1: "-", 2: "--"}


def _mean_band(ax: Axes, frame: pd.DataFrame, y: str, palette: dict, by_depth: bool) -> None:
    """One line per variant (and depth): mean of `y` per epoch with a ±1 sd band."""
    hue = ["variant", "depth"] if by_depth else ["variant"]
    stats = frame.groupby([*hue, "epoch"], dropna=False)[y].agg(["mean", "std"]).reset_index()
    for key, g in stats.groupby(hue, dropna=False, sort=False):
        variant = key[0]
        depth = key[1] if by_depth else None
        label = variant if depth is None else f"{variant}, depth {depth}"
        g = g.sort_values("epoch")
        ls = _STYLES.get(depth, ":") if by_depth else "-"
        ax.plot(g["epoch"], g["mean"], ls, color=palette[variant], label=label, lw=1.2)
        band = g["std"].fillna(0)
        ax.fill_between(
            g["epoch"], g["mean"] - band, g["mean"] + band, color=palette[variant], alpha=0.15, lw=0
        )


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    rank = {v: i for i, v in enumerate(variant_order(frame["variant"]))}
    return frame.assign(_r=frame["variant"].map(rank)).sort_values(["_r", "depth", "epoch"])


def with_curves(e: pd.DataFrame) -> pd.DataFrame:
    """The rows of models trained over epochs: a (variant, dataset, depth) with fewer than two
    distinct epochs (logistic regression records one row) has no curve to draw."""
    n = e.groupby(["variant", "dataset", "depth"], dropna=False)["epoch"].transform("nunique")
    return e[n >= 2]


def learning_curves_figure(epochs: pd.DataFrame, path: str | Path) -> FigureResult:
    """Validation accuracy (percent) per epoch, one panel per (dataset, depth), one line per
    variant trained over epochs (models with a single epoch row have no curve and are left
    out)."""
    e = with_columns(epochs, "epochs")
    e = e[e["val_accuracy"].notna() & e["epoch"].notna() & e["variant"].notna()]
    e = with_curves(e)
    if e.empty:
        return missing("no epoch rows with a validation accuracy over two or more epochs")
    e = e.assign(val_accuracy=100 * e["val_accuracy"])
    e = _ordered(e)
    palette = colours(e["variant"])
    cells = dataset_cells(e, "depth")
    if not cells:
        return missing("epoch rows lack dataset or depth")
    fig, axes = panels(len(cells), ncols=4, size=(3.8, 2.8))
    for ax, (dataset, depth) in zip(axes, cells, strict=True):
        sub = e[(e["dataset"] == dataset) & (e["depth"] == depth)]
        _mean_band(ax, sub, "val_accuracy", palette, by_depth=False)
        ax.set_title(f"{dataset} · depth {int(depth)}")
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 100)
        ax.set_ylabel("val accuracy (%)")
    legend_once(fig, axes)
    fig.suptitle("Learning curves: validation accuracy, mean ± 1 sd over seeds")
    return save(fig, path)


def beta_figure(betas: pd.DataFrame, path: str | Path) -> FigureResult:
    """β per epoch (0 = initial), mean over units and seeds; one panel per (dataset, layer), one
    line per variant, solid for depth 1 and dashed for depth 2."""
    b = with_columns(betas, "betas")
    b = b[b["beta"].notna() & b["epoch"].notna() & b["variant"].notna()]
    if b.empty:
        return missing("no β rows (only Landau variants record β)")
    # mean over units first, so each seed contributes one value per epoch
    keys = ["variant", "dataset", "depth", "layer", "seed", "epoch"]
    b = b.groupby(keys, dropna=False)["beta"].mean().reset_index()
    b = _ordered(b)
    palette = colours(b["variant"])
    cells = dataset_cells(b, "layer")
    if not cells:
        return missing("β rows lack dataset or layer")
    fig, axes = panels(len(cells), ncols=4, size=(3.8, 2.8))
    for ax, (dataset, layer) in zip(axes, cells, strict=True):
        sub = b[(b["dataset"] == dataset) & (b["layer"] == layer)]
        _mean_band(ax, sub, "beta", palette, by_depth=True)
        ax.set_title(f"{dataset} · {layer}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("β (mean over units)")
    legend_once(fig, axes)
    fig.suptitle("β trajectories: mean over units and seeds ± 1 sd (solid depth 1, dashed 2)")
    return save(fig, path)


def loss_terms_figure(epochs: pd.DataFrame, path: str | Path) -> FigureResult:
    """The three Ginzburg–Landau energy terms per epoch for the Landau variants (NaN for
    cross-entropy models, which are left out); rows are datasets, columns the terms."""
    e = with_columns(epochs, "epochs")
    terms = [t for t in LOSS_TERMS if e[t].notna().any()]
    if not terms:
        return missing("no epoch rows with loss terms (only Landau variants record them)")
    e = e[e[terms].notna().any(axis=1) & e["epoch"].notna()]
    if e.empty:
        return missing("no epoch rows with both an epoch number and loss terms")
    e = _ordered(e)
    palette = colours(e["variant"])
    datasets = dataset_order(e["dataset"].dropna())
    cells = [(d, t) for d in datasets for t in terms]
    fig, axes = panels(len(cells), ncols=len(terms), size=(3.8, 2.6))
    for ax, (dataset, term) in zip(axes, cells, strict=True):
        sub = e[(e["dataset"] == dataset) & e[term].notna()]
        if sub.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        else:
            _mean_band(ax, sub, term, palette, by_depth=True)
        ax.set_title(f"{dataset} · {term.removeprefix('loss_')}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{term.removeprefix('loss_')} term (mean)")
    legend_once(fig, axes)
    fig.suptitle("Loss terms per epoch: mean ± 1 sd over seeds (solid depth 1, dashed 2)")
    return save(fig, path)
