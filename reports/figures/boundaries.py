"""Decision boundaries on a 2-D dataset: predicted class over the mesh, training points on top."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from reports.data import ANCHORS, REFERENCE, with_columns
from reports.figures._base import FigureResult, missing, panels, save

__all__ = ["BOUNDARY_VARIANTS", "choose_seed", "decision_boundary_figure"]

BOUNDARY_VARIANTS = (REFERENCE, ANCHORS[0])  # the model, and plain_mlp for contrast


def choose_seed(meshes: pd.DataFrame) -> int | None:
    """The smallest seed that has the most (variant, depth) meshes, so panels share one seed."""
    m = meshes.dropna(subset=["seed"])
    if m.empty:
        return None
    cover = m.groupby("seed")[["variant", "depth"]].apply(lambda g: len(g.drop_duplicates()))
    return int(cover[cover == cover.max()].index.min())


def _draw(ax: Axes, mesh: pd.DataFrame, pts: pd.DataFrame, n_classes: int) -> None:
    grid = mesh.pivot_table(index="y", columns="x", values="pred", aggfunc="first")
    cmap = "tab10"
    ax.pcolormesh(
        grid.columns.to_numpy(float),
        grid.index.to_numpy(float),
        grid.to_numpy(float),
        shading="nearest",
        cmap=cmap,
        vmin=0,
        vmax=9,
        alpha=0.35,
    )
    if n_classes <= 10 and min(grid.shape) >= 2 and not grid.isna().all().all():
        ax.contour(
            grid.columns.to_numpy(float),
            grid.index.to_numpy(float),
            grid.to_numpy(float),
            levels=np.arange(n_classes) + 0.5,
            colors="k",
            linewidths=0.6,
        )
    if not pts.empty:
        ax.scatter(
            pts["x"],
            pts["y"],
            c=pts["label"].to_numpy(float),
            cmap=cmap,
            vmin=0,
            vmax=9,
            s=8,
            edgecolor="k",
            linewidth=0.3,
        )


def decision_boundary_figure(
    meshes: pd.DataFrame,
    points: pd.DataFrame,
    dataset: str,
    path: str | Path,
    variants: Sequence[str] = BOUNDARY_VARIANTS,
    seed: int | None = None,
) -> FigureResult:
    """Rows: `variants`; columns: depths; one seed (`seed`, or choose_seed). Background: the
    predicted class on the mesh; dots: the fixed training subsample coloured by label."""
    m = with_columns(meshes, "meshes")
    m = m[(m["dataset"] == dataset) & m["variant"].isin(list(variants))]
    m = m.dropna(subset=["x", "y", "pred"])
    if m.empty:
        return missing(f"no meshes for dataset {dataset} and variants {', '.join(variants)}")
    seed = choose_seed(m) if seed is None else seed
    m = m[m["seed"] == seed]
    if m.empty:
        return missing(f"no meshes for dataset {dataset} with seed {seed}")
    p = with_columns(points, "points")
    p = p[(p["dataset"] == dataset)].dropna(subset=["x", "y", "label"])
    shown = [v for v in variants if (m["variant"] == v).any()]
    depths = sorted(int(d) for d in m["depth"].dropna().unique())
    if not depths:
        return missing(f"meshes for dataset {dataset} lack a depth")
    n_classes = int(max(m["pred"].max(), p["label"].max() if len(p) else 0)) + 1
    fig, axes = panels(len(shown) * len(depths), ncols=len(depths), size=(3.6, 3.3))
    for i, variant in enumerate(shown):
        for j, depth in enumerate(depths):
            ax = axes[i * len(depths) + j]
            mesh = m[(m["variant"] == variant) & (m["depth"] == depth)]
            if mesh.empty:
                ax.text(
                    0.5,
                    0.5,
                    f"no mesh for {variant}\nat depth {depth}",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
            else:
                if mesh["run_id"].nunique() > 1:  # repeated runs: show one
                    mesh = mesh[mesh["run_id"] == mesh["run_id"].iloc[0]]
                _draw(ax, mesh, p, n_classes)
            ax.set_title(f"{variant} · depth {depth}")
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Decision boundaries on {dataset} (seed {seed})")
    return save(fig, path)
