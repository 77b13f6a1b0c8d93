"""Render the report's sections as one self-contained HTML page (inline CSS, relative image
paths). A small script marks, after load, how many images failed and which sections are empty,
as attributes of <body>, so a headless browser can check the page."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from reports.document import Figure, Paragraph, Section, Table, format_frame, report_title
from reports.escape import html_text

__all__ = ["html_table", "render_html"]

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
nav a { margin-right: .8em; white-space: nowrap; }
section { border-top: 1px solid #ccc; margin-top: 2em; }
.scroll { overflow-x: auto; margin: .8em 0; }
table.tbl { border-collapse: collapse; font-size: 13px; }
table.tbl th, table.tbl td { border: 1px solid #ddd; padding: 2px 6px; text-align: left;
                             vertical-align: top; }
table.tbl th { background: #f3f3f3; }
table.tbl td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.v-supported { background: #e3f4e3; }
td.v-not-supported { background: #fbe3e3; }
td.v-inconclusive, td.v-no-data { background: #f1f1f1; }
.caption { color: #555; font-style: italic; margin: .2em 0; }
p.missing { background: #fff6e0; border-left: 4px solid #e0a800; padding: .3em .6em; }
img { max-width: 100%; display: block; margin: .5em 0; }
code { background: #f3f3f3; padding: 0 .2em; }
"""

CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, broken = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) broken++;
  }
  var empty = [];
  document.querySelectorAll('section').forEach(function (s) {
    var content = s.querySelectorAll('table, img, p');
    var text = 0;
    content.forEach(function (c) { if (c.tagName === 'IMG' || c.textContent.trim()) text++; });
    if (text === 0) empty.push(s.id);
  });
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-broken', String(broken));
  document.body.setAttribute('data-sections', String(document.querySelectorAll('section').length));
  document.body.setAttribute('data-empty-sections', empty.join(','));
  document.body.setAttribute('data-checked', '1');
});
"""


def _text(s: str) -> str:
    """Escape, then show `backticked` text as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_text(s))


def html_table(frame: pd.DataFrame) -> str:
    """The formatted cells as an escaped HTML table; numeric columns right-aligned, verdicts
    coloured."""
    cells = format_frame(frame)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{html_text(c)}</th>" for c in cells.columns)
    rows = []
    for values in cells.itertuples(index=False):
        tds = []
        for col, num, v in zip(cells.columns, numeric, values, strict=True):
            cls = "num" if num else ""
            if col == "verdict":
                cls = "v-" + re.sub(r"[^a-z]+", "-", v.lower()).strip("-")
            tds.append(
                f'<td class="{cls}">{html_text(v)}</td>' if cls else f"<td>{html_text(v)}</td>"
            )
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<table class="tbl"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _block(b: Paragraph | Table | Figure) -> str:
    if isinstance(b, Paragraph):
        return f'<p class="{"missing" if b.missing else "text"}">{_text(b.text)}</p>'
    if isinstance(b, Table):
        body = html_table(b.frame)
        return (
            f'<p class="caption">{_text(b.caption)} '
            f'(<a href="tables/{html_text(b.name)}.csv">CSV</a>, '
            f'<a href="tables/{html_text(b.name)}.tex">LaTeX</a>)</p>\n'
            f'<div class="scroll">{body}</div>'
        )
    src = html_text(b.path.as_posix())
    return (
        f'<figure><img src="{src}" alt="{html_text(b.caption)}">'
        f'<figcaption class="caption">{_text(b.caption)}</figcaption></figure>'
    )


def render_html(sections: list[Section], meta: dict[str, Any]) -> str:
    title = html_text(report_title(meta))
    nav = " ".join(f'<a href="#{s.id}">{html_text(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{CSS}</style>",
        f"<script>{CHECK_SCRIPT}</script></head><body>",
        f"<h1>{title}</h1><nav>{nav}</nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{html_text(s.id)}"><h2>{html_text(s.title)}</h2>')
        parts.extend(_block(b) for b in s.blocks)
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
