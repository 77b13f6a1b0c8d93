"""The critical-difference diagram of a Friedman/Nemenyi ranking (autorank.plot_stats)."""

from __future__ import annotations

import warnings
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.figures._base import FigureResult, missing, save
from reports.ranking import Ranking
from reports.render.document import format_p

__all__ = ["cd_diagram_figure"]


def cd_diagram_figure(ranking: Ranking, path: str | Path) -> FigureResult:
    """Mean ranks of the variants (rank 1 = most accurate); variants joined by a bar are not
    significantly different (Nemenyi). Drawn even when the Friedman test is not significant,
    which the title then says."""
    if not ranking.ok:
        return missing(ranking.reason or "the ranking was not computed")
    from autorank import plot_stats  # slow import, only when drawing

    k = ranking.matrix.shape[1]
    # autorank draws in a 6-inch-wide coordinate system whose height grows with k
    fig = Figure(figsize=(6, 1.3 + 0.2 * k))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 0.85))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot_stats(ranking.result, allow_insignificant=True, ax=ax)
    r = ranking.result
    significant = "significant" if r.pvalue < r.alpha else "NOT significant: ranks may be noise"
    fig.suptitle(
        f"Depth {ranking.depth}: Friedman p={format_p(r.pvalue)} ({significant}), CD={r.cd:.2f}",
        fontsize="medium",
    )
    return save(fig, path)
