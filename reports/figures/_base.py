"""What every figure shares: the result type, panel grids on a pyplot-free Agg figure, colours.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so
building a report changes no global backend or state and leaks no open figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.data import ANCHORS, EXPECTED_DATASETS, REFERENCE

__all__ = [
    "FigureResult", "colours", "dataset_order", "group_datasets", "missing", "panels", "save",
]  # fmt: skip

DPI = 100
MAX_HEIGHT_IN = 16.0  # 1 600 px at DPI: taller figures cannot be read at their rendered size
MIN_PANEL_IN = 2.0  # panels are not squeezed below this: more panels need another figure
KNOWN_VARIANTS = (REFERENCE, "no_quartic", "static_beta", "sgd", "no_noise", "no_spatial", *ANCHORS)


@dataclass(frozen=True)
class FigureResult:
    """A saved figure (`path`, and the matplotlib `figure` itself, for inspection) or the reason
    there is none (`reason`)."""

    path: Path | None
    reason: str | None = None
    figure: Figure | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.path is not None


def missing(reason: str) -> FigureResult:
    return FigureResult(None, reason)


def panels(
    n: int, ncols: int = 3, size: tuple[float, float] = (4.0, 3.0), sharey: bool = False
) -> tuple[Figure, list[Axes]]:
    """A figure with `n` axes in rows of `ncols` (unused cells removed), whitegrid style. Rows
    are made lower (down to MIN_PANEL_IN) so that the figure stays within MAX_HEIGHT_IN."""
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    height = size[1]
    if nrows * height > MAX_HEIGHT_IN:
        height = max(MIN_PANEL_IN, MAX_HEIGHT_IN / nrows)
    # at least 7.5 inches wide, so the title and the legend beside the panels fit
    fig = Figure(figsize=(max(7.5, size[0] * ncols), height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    with sns.axes_style("whitegrid"):
        grid = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    axes = list(grid.ravel())
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def save(fig: Figure, path: str | Path) -> FigureResult:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # no date or software version in the PNG: the same data give the same bytes
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return FigureResult(path, figure=fig)


def colours(names: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """A stable colour per variant: the known variants keep theirs in every figure."""
    names = list(dict.fromkeys(str(n) for n in names))
    extra = sorted(set(names) - set(KNOWN_VARIANTS))
    palette = sns.color_palette("tab10", 10) + sns.color_palette("Set2", 8)
    ordered = [*KNOWN_VARIANTS, *extra]
    return {n: palette[i % len(palette)] for i, n in enumerate(ordered) if n in names}


def dataset_order(names: Iterable[str]) -> list[str]:
    """Expected datasets in their usual order, then any others alphabetically."""
    present = {str(n) for n in names}
    return [d for d in EXPECTED_DATASETS if d in present] + sorted(present - set(EXPECTED_DATASETS))


def dataset_cells(frame: pd.DataFrame, key: str) -> list[tuple[str, object]]:
    """The panels of a faceted figure: (dataset, value of ``key``) pairs present in ``frame``,
    datasets in report order and ``key`` values sorted within each."""
    return [
        (d, k)
        for d in dataset_order(frame["dataset"].dropna())
        for k in sorted(frame.loc[frame["dataset"] == d, key].dropna().unique())
    ]


def legend_once(fig: Figure, axes: list[Axes], below: bool = False) -> None:
    """One legend for the figure, from the handles of all axes (duplicates removed): beside
    the panels, or `below` them in one row (short legends: clear of a wide title)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    if not seen:
        return
    if below:
        fig.legend(
            list(seen.values()), list(seen), loc="outside lower center", ncols=len(seen),
            fontsize="small",
        )  # fmt: skip
    else:
        fig.legend(list(seen.values()), list(seen), loc="outside right upper", fontsize="small")


def group_datasets(counts, max_panels: int) -> list[list[str]]:
    """Consecutive datasets whose panels number at most ``max_panels`` together, from
    ``counts`` ((dataset, panels) in figure order); a dataset is never split across figures."""
    groups: list[list[str]] = []
    count = 0
    for dataset, n in counts:
        if groups and count + n <= max_panels:
            groups[-1].append(dataset)
            count += n
        else:
            groups.append([dataset])
            count = n
    return groups
