"""Tables as LaTeX: booktabs rules, the cells as the page shows them, the few non-ASCII symbols
the report uses written as LaTeX commands (so the .tex files compile with pdflatex too)."""

from __future__ import annotations

import re

from reports.render.document import Table, format_frame

__all__ = ["latex_table"]

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
