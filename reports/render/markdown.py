"""Render the report's sections as Markdown (GitHub-flavoured pipe tables, written here so the
report needs no `tabulate`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reports.render.document import Figure, Paragraph, Section, Table, format_frame, report_title

__all__ = ["markdown_table", "render_markdown"]


def _cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of the formatted cells; numeric-looking columns right-aligned."""
    f = format_frame(frame)
    if f.columns.empty:
        return "_(no columns)_"
    right = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    header = "| " + " | ".join(_cell(str(c)) for c in f.columns) + " |"
    rule = "|" + "|".join("---:" if r else ":---" for r in right) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in f.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _block(b: Paragraph | Table | Figure) -> str:
    if isinstance(b, Paragraph):
        return f"> {b.text}" if b.missing else b.text
    if isinstance(b, Table):
        links = f"([CSV](tables/{b.name}.csv), [LaTeX](tables/{b.name}.tex))"
        return f"*{b.caption}* {links}\n\n{markdown_table(b.frame)}"
    return f"![{b.caption}]({b.path.as_posix()})\n\n*{b.caption}*"


def render_markdown(sections: list[Section], meta: dict[str, Any]) -> str:
    title = report_title(meta)
    parts = [f"# {title}", ""]
    parts += [f"- [{s.title}](#{s.id})" for s in sections]
    for s in sections:
        parts += ["", f'<a id="{s.id}"></a>', "", f"## {s.title}", ""]
        for b in s.blocks:
            parts += [_block(b), ""]
    return "\n".join(parts).rstrip() + "\n"
