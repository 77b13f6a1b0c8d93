"""Render the report's sections as Markdown (GitHub-flavoured pipe tables, written here so the
report needs no `tabulate`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reports.render.document import Figure, Paragraph, Section, Table, format_frame, report_title
from reports.render.escape import markdown_text

__all__ = ["markdown_table", "render_markdown"]


def _cell(s: str) -> str:
    return markdown_text(s.replace("\n", " "), cell=True)


def _line(s: str) -> str:
    """A heading or a list item: one line."""
    return markdown_text(" ".join(s.splitlines()))


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
        text = markdown_text(b.text)
        return f"> {text}" if b.missing else text
    caption = markdown_text(b.caption)
    if isinstance(b, Table):
        links = f"([CSV](tables/{b.name}.csv), [LaTeX](tables/{b.name}.tex))"
        return f"*{caption}* {links}\n\n{markdown_table(b.frame)}"
    return f"![{caption}]({b.path.as_posix()})\n\n*{caption}*"


def render_markdown(sections: list[Section], meta: dict[str, Any]) -> str:
    title = _line(report_title(meta))
    parts = [f"# {title}", ""]
    parts += [f"- [{_line(s.title)}](#{s.id})" for s in sections]
    for s in sections:
        parts += ["", f'<a id="{s.id}"></a>', "", f"## {_line(s.title)}", ""]
        for b in s.blocks:
            parts += [_block(b), ""]
    return "\n".join(parts).rstrip() + "\n"
