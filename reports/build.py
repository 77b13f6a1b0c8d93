"""Build a self-contained report directory from a ReportData:

out_dir/index.html       the page (figures linked by relative path)
out_dir/report.md        the same content in Markdown
out_dir/tables/*.csv     every table, raw numbers
out_dir/tables/*.tex     every table, LaTeX (booktabs)
out_dir/figures/*.png    every figure
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reports.data import ReportData
from reports.document import Section, Table, format_frame
from reports.escape import spreadsheet_safe
from reports.html import render_html
from reports.markdown import render_markdown
from reports.paths import inside
from reports.sections import make_sections

__all__ = ["build_report", "latex_table"]

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


# so the .tex files compile with pdflatex as well as with unicode engines
_UNICODE_LATEX = {
    "±": r"$\pm$", "−": "$-$", "—": "---", "–": "--", "≥": r"$\geq$", "≤": r"$\leq$",
    "…": r"\ldots{}", "·": r"$\cdot$", "β": r"$\beta$", "α": r"$\alpha$", "γ": r"$\gamma$",
    "κ": r"$\kappa$", "√": r"$\surd$", "★": r"$\star$", "×": r"$\times$", "∞": r"$\infty$",
    "′": "'",
}  # fmt: skip


def _latex_escape(s: str) -> str:
    return re.sub(r"[\\&%$#_{}~^]", lambda m: _LATEX_SPECIAL[m.group()], s)


def latex_table(table: Table) -> str:
    """The table as a LaTeX `table` environment: booktabs rules (\\usepackage{booktabs}), cells
    as shown in the page, the few non-ASCII symbols the report uses written as LaTeX commands."""
    cells = format_frame(table.frame)
    tex = cells.to_latex(
        index=False,
        escape=True,
        caption=_latex_escape(table.caption.replace("`", "")),
        label=f"tab:{table.name}",
        position="htbp",
    )
    return re.sub("|".join(_UNICODE_LATEX), lambda m: _UNICODE_LATEX[m.group()], tex)


def _write_tables(sections: list[Section], tables_dir: Path) -> None:
    seen: set[str] = set()
    for table in (t for s in sections for t in s.tables):
        if table.name in seen:
            raise ValueError(f"duplicate table name {table.name!r}; table names must be unique")
        seen.add(table.name)
        # 10 significant digits: the last bits of a float sum are not part of a result, and a
        # rebuilt report must be byte-identical
        csv, tex = (inside(tables_dir, table.name, suffix) for suffix in (".csv", ".tex"))
        spreadsheet_safe(table.frame).to_csv(csv, index=False, float_format="%.10g")
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
