"""Build a self-contained report directory from a ReportData:

out_dir/index.html       the page (figures linked by relative path)
out_dir/report.md        the same content in Markdown
out_dir/tables/*.csv     every table, raw numbers
out_dir/tables/*.tex     every table, LaTeX (booktabs)
out_dir/figures/*.png    every figure
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reports.data import ReportData
from reports.paths import inside
from reports.render import Section, latex_table, render_html, render_markdown
from reports.sections import make_sections

__all__ = ["build_report"]


def _write_tables(sections: list[Section], tables_dir: Path) -> None:
    seen: set[str] = set()
    for table in (t for s in sections for t in s.tables):
        if table.name in seen:
            raise ValueError(f"duplicate table name {table.name!r}; table names must be unique")
        seen.add(table.name)
        # 10 significant digits: the last bits of a float sum are not part of a result, and a
        # rebuilt report must be byte-identical
        csv, tex = (inside(tables_dir, table.name, suffix) for suffix in (".csv", ".tex"))
        table.frame.to_csv(csv, index=False, float_format="%.10g")
        tex.write_text(latex_table(table), encoding="utf-8")


def build_report(
    data: ReportData,
    out_dir: str | os.PathLike[str],
    *,
    strict: bool = False,
    figures: bool = True,
    on_section: Callable[[str], None] | None = None,
) -> Path:
    """Write the report into `out_dir` (created if needed; files of an earlier report with the
    same names are replaced) and return the path of index.html. Never fails for missing data:
    each section then says what is missing. A section that raises unexpectedly is replaced by
    the error message and a RuntimeWarning, unless `strict=True` (tests), which re-raises.
    `figures=False` writes the tables and pages without drawing any figure; `on_section` is
    told which section is being built (progress).

    Deterministic: the same frames, in any row order, give byte-identical tables (runs are
    sorted canonically, random states are fixed, CSV floats have 10 significant digits)."""
    if not isinstance(data, ReportData):
        raise ValueError(f"`data` must be a ReportData, but got {type(data).__name__}")
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    meta = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **data.meta}
    data = ReportData(**{**{k: getattr(data, k) for k in data.__dataclass_fields__}, "meta": meta})
    sections = make_sections(data, out, strict=strict, draw_figures=figures, on_section=on_section)
    _write_tables(sections, out / "tables")
    (out / "report.md").write_text(render_markdown(sections, meta), encoding="utf-8")
    index = out / "index.html"
    index.write_text(render_html(sections, meta), encoding="utf-8")
    return index
