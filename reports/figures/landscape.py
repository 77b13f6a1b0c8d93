"""Figures of issue 9: test accuracy against each swept parameter (mean and every run, per
variant), and the sharpness (top Hessian eigenvalue) of every run per variant and dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.data import normalise_runs, sweep_values, variant_order
from reports.figures._base import (
    FigureResult,
    colours,
    dataset_cells,
    legend_once,
    missing,
    panels,
    save,
)

__all__ = ["sharpness_figure", "swept_params", "sweep_figure"]


def swept_params(runs: pd.DataFrame) -> list[str]:
    """The parameters swept in `runs` (raw `sweep` texts), in name order."""
    if "sweep" not in runs:
        return []
    names = set()
    for text in runs["sweep"].dropna():
        names |= set(sweep_values(text))
    return sorted(names)


def _positions(values: np.ndarray) -> tuple[np.ndarray, list[float], list[str]]:
    """x positions: log10 where the values span a decade or more (or include 0 beside positive
    values), with 0 one decade left of the smallest positive value as a separate tick; linear
    otherwise."""
    positive = values[values > 0]
    spans = positive.size and (positive.max() / positive.min() >= 10 or (values == 0).any())
    if spans:
        zero_at = np.log10(positive.min()) - 1
        x = np.where(values > 0, np.log10(np.where(values > 0, values, 1)), zero_at)
        ticks = sorted(set(values.tolist()))
        pos = [np.log10(v) if v > 0 else zero_at for v in ticks]
        return x, pos, [f"{v:g}" for v in ticks]
    ticks = sorted(set(values.tolist()))
    return values, ticks, [f"{v:g}" for v in ticks]


def sweep_figure(runs: pd.DataFrame, path: str | Path, param: str) -> FigureResult:
    """Test accuracy (%) against `param` for every variant with swept runs: the mean over runs
    (failures at chance) as a line, every run as a dot; one panel per (dataset, depth, epochs),
    so a dataset swept at two lengths (MNIST at 3 epochs and the claims' 100) shows both."""
    raw = runs
    r = normalise_runs(runs)
    hp = f"hp_{param}"
    if hp not in r or "sweep" not in raw:
        return missing(f"no runs swept over {param}")
    has = raw["sweep"].map(lambda t: param in sweep_values(t)).astype(bool)
    swept_variants = set(raw.loc[has, "variant"].dropna())
    # the variant's runs at its swept values and at the unswept (stated) one, fixed protocol
    sel = r[r["variant"].isin(swept_variants) & (r["protocol"] == "fixed")].copy()
    sel = sel[sel["sweep"].map(lambda t: set(sweep_values(t)) <= {param}).astype(bool)]
    sel["value"] = pd.to_numeric(sel[hp], errors="coerce")
    sel = sel.dropna(subset=["value"])
    # a length at which only the stated value ran is not a sweep (e.g. 10-epoch runs of a
    # dataset swept at 3): panels need two values or more
    n_values = sel.groupby(["dataset", "depth", "epochs"])["value"].transform("nunique")
    sel = sel[n_values >= 2]
    if sel.empty:
        return missing(f"no fixed-protocol runs swept over {param}")
    cells = [
        (dataset, depth, epochs)
        for dataset, depth in dataset_cells(sel, "depth")
        for epochs in sorted(sel.loc[(sel["dataset"] == dataset) & (sel["depth"] == depth),
                                     "epochs"].unique())
    ]  # fmt: skip
    fig, axes = panels(len(cells), ncols=3, size=(4.2, 3.2))
    palette = colours(sel["variant"])
    x_all, pos, labels = _positions(sel["value"].to_numpy(float))
    sel["x"] = x_all
    for ax, (dataset, depth, epochs) in zip(axes, cells, strict=True):
        g = sel[(sel["dataset"] == dataset) & (sel["depth"] == depth) & (sel["epochs"] == epochs)]
        for variant in variant_order(g["variant"]):
            v = g[g["variant"] == variant]
            means = v.groupby("x")["accuracy"].mean()
            ax.plot(means.index, 100 * means.to_numpy(), marker="s", color=palette[variant],
                    label=variant, zorder=3)  # fmt: skip
            ax.plot(v["x"], 100 * v["accuracy"], ls="none", marker="o", mfc="none", ms=4,
                    color=palette[variant], alpha=0.6, zorder=2)  # fmt: skip
        chance = g["chance_accuracy"].dropna()
        if not chance.empty:
            ax.axhline(100 * chance.mean(), color="k", ls=":", lw=1, label="chance level")
        ax.set_xticks(pos, labels, fontsize="small")
        ax.set_ylim(0, 100)
        ax.set_title(f"{dataset}, depth {depth}, {int(epochs)} epochs", fontsize="medium")
        ax.set_xlabel(param)
        ax.set_ylabel("test accuracy (%)")
    legend_once(fig, axes)
    fig.suptitle(f"Test accuracy against {param} (line: mean, failures at chance; dots: runs)")
    return save(fig, path)


def sharpness_figure(runs: pd.DataFrame, path: str | Path) -> FigureResult:
    """The top Hessian eigenvalue of the training loss at the final weights, every run as a dot
    (symlog axis: it spans decades and may be negative), the median as a bar; one panel per
    (dataset, depth)."""
    r = normalise_runs(runs)
    r = r[np.isfinite(pd.to_numeric(r["sharpness"], errors="coerce").astype(float))]
    r = r[r["sweep"] == ""]  # the unswept setting; sweeps are drawn against their parameter
    if r.empty:
        return missing("no run has a sharpness (diagnostics off, or only sklearn runs)")
    cells = dataset_cells(r, "depth")
    fig, axes = panels(len(cells), ncols=3, size=(4.2, 3.4))
    for ax, (dataset, depth) in zip(axes, cells, strict=True):
        g = r[(r["dataset"] == dataset) & (r["depth"] == depth)]
        order = variant_order(g["variant"])
        for i, variant in enumerate(order):
            for j, (protocol, marker) in enumerate((("fixed", "o"), ("tuned", "^"))):
                v = g[(g["variant"] == variant) & (g["protocol"] == protocol)]["sharpness"]
                if v.empty:
                    continue
                x = i + (j - 0.5) * 0.3
                ax.plot(np.full(len(v), x), v, ls="none", marker=marker, mfc="none", ms=4,
                        color="0.3", label=f"{protocol} protocol run")  # fmt: skip
                ax.plot([x - 0.12, x + 0.12], [v.median()] * 2, color="C3", lw=2,
                        label="median")  # fmt: skip
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize="small")
        ax.set_title(f"{dataset}, depth {depth}", fontsize="medium")
        ax.set_ylabel("sharpness λ_max")
    legend_once(fig, axes)
    fig.suptitle("Sharpness: top Hessian eigenvalue of the training loss at the final weights")
    return save(fig, path)
