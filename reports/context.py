"""What the section makers share: the inputs, the normalised runs, tables several sections use
(computed once, on first use), and a guarded way to draw a figure."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import pandas as pd

from reports.claims import claims_table
from reports.contributions import cell_contributions, pooled_contributions
from reports.data import ReportData, hint, normalise_runs
from reports.figures import FigureResult
from reports.paths import inside
from reports.render import Figure, Paragraph
from reports.replication import add_replication

__all__ = ["ReportContext", "reraise_interrupt"]


def reraise_interrupt(exc: BaseException) -> None:
    """Raise the interruption (Ctrl-C, SIGTERM: a KeyboardInterrupt) that ``exc`` wraps, if
    any: a library that turned a signal into its own error must not make the report go on."""
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            raise cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


class ReportContext:
    """Holds the inputs and the shared intermediate tables while the sections are made."""

    def __init__(
        self, data: ReportData, out_dir: Path, strict: bool, draw_figures: bool = True
    ) -> None:
        self.data = data
        self.strict = strict
        self.draw_figures = draw_figures
        self.meta = data.meta
        self.out_dir = out_dir
        self.runs = normalise_runs(data.runs)
        self.has_runs = not self.runs.empty

    @cached_property
    def cells(self) -> pd.DataFrame:
        d = self.data
        return cell_contributions(self.runs, reference=d.reference, anchors=d.anchors)

    @cached_property
    def pooled(self) -> pd.DataFrame:
        d = self.data
        return pooled_contributions(self.runs, reference=d.reference, anchors=d.anchors)

    @cached_property
    def claims(self) -> pd.DataFrame:
        """The claims table; with a replicate, its verdict and replication columns too."""
        d = self.data  # the same call as reports.replication.claims_of makes for a replicate
        claims = claims_table(
            self.runs, d.loss_ranking, reference=d.reference, meta=self.meta,
            epochs=d.epochs, betas=d.betas, meshes=d.meshes,
        )  # fmt: skip
        if self.has_replicate:
            return add_replication(claims, self.data.replicate_claims)
        return claims

    @property
    def has_replicate(self) -> bool:
        return not self.data.replicate_claims.empty

    def hint(self, key: str) -> str:
        return hint(self.meta, key)

    def figure(self, caption: str, draw: Callable[..., FigureResult], *args) -> Figure | Paragraph:
        """Draw with `draw(*args)`; a failure to draw costs only this figure (unless strict).
        Without `draw_figures` (tables only) nothing is drawn."""
        if not self.draw_figures:
            return Paragraph(f"{caption}: not drawn (tables only).", missing=True)
        try:
            result = draw(*args)
        except Exception as exc:  # shown in the page and warned about, never silent
            reraise_interrupt(exc)
            if self.strict:
                raise
            warnings.warn(f"{caption}: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
            result = FigureResult(None, f"drawing failed ({type(exc).__name__}: {exc})")
        if not result.ok:
            return Paragraph(f"{caption}: not available because {result.reason}.", missing=True)
        return Figure(result.path.relative_to(self.out_dir), caption)

    def fig_path(self, name: str) -> Path:
        """``figures/<slug>.png``: names carry stored values (dataset names), kept inside."""
        return inside(self.out_dir / "figures", name, ".png")

    def no_runs(self) -> Paragraph:
        return Paragraph(f"Not available because there are no runs — {self.hint('runs')}.", True)
