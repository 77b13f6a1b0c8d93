"""The report as data (document.py: sections of paragraphs, tables and figures) and its
renderings: one self-contained HTML page, Markdown, a LaTeX file per table."""

from reports.render.document import (
    Figure,
    Paragraph,
    Section,
    Table,
    format_frame,
    format_p,
    format_value,
    is_p_column,
    report_title,
)
from reports.render.html import html_table, render_html
from reports.render.latex import latex_table
from reports.render.markdown import markdown_table, render_markdown

__all__ = [
    "Figure",
    "Paragraph",
    "Section",
    "Table",
    "format_frame",
    "format_p",
    "format_value",
    "is_p_column",
    "html_table",
    "latex_table",
    "markdown_table",
    "render_html",
    "render_markdown",
    "report_title",
]
