"""Render the report's sections as one self-contained HTML page (inline CSS, relative image
paths). A small script marks, after load, how many images failed and which sections are empty,
as attributes of <body>, so a headless browser can check the page."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from reports.render.document import Figure, Paragraph, Section, Table, format_frame, report_title
from reports.render.escape import html_text

__all__ = ["html_table", "render_html"]

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin: .3em 0; }
nav { font-size: 13px; }
nav a { margin-right: .8em; white-space: nowrap; }
section { border-top: 1px solid #ccc; margin-top: 1.2em; }
section h2 { margin: .4em 0; }
.scroll { overflow-x: auto; margin: .8em 0; }
table.tbl { border-collapse: collapse; font-size: 13px; }
table.tbl th, table.tbl td { border: 1px solid #ddd; padding: 2px 6px; text-align: left;
                             vertical-align: top; }
table.tbl th { background: #f3f3f3; }
table.tbl td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.v-supported, td.v-equivalent { background: #e3f4e3; }
td.v-not-supported, td.v-not-equivalent { background: #fbe3e3; }
td.v-inconclusive, td.v-undetermined, td.v-no-data { background: #f1f1f1; }
td.v-dataset-dependent { background: #fff3d6; }
td.r-replicates { background: #e3f4e3; } td.r-does-not-replicate { background: #fbe3e3; }
p.answer { font-size: 15px; margin: .5em 0; }
table.compact { width: 100%; table-layout: fixed; font-size: 13px; line-height: 1.3; }
table.compact td, table.compact th { padding: 2px 5px; }
table.compact div.clip { display: -webkit-box; -webkit-line-clamp: 2; line-clamp: 2;
                         -webkit-box-orient: vertical; overflow: hidden; }
table.compact col.c-id { width: 5em; } table.compact col.c-verdict { width: 8em; }
table.compact col.c-estimate-95-interval { width: 13em; } table.compact col.c-units { width: 7em; }
table.compact col.c-claim { width: 33%; } table.compact col.c-replication { width: 10em; }
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
  // the first screen: how many rows of the compact verdict table the window shows whole
  var compact = document.querySelector('table.compact'), visible = 0, rows = 0;
  if (compact) {
    compact.querySelectorAll('tbody tr').forEach(function (tr) {
      rows++;
      if (tr.getBoundingClientRect().bottom <= window.innerHeight) visible++;
    });
  }
  document.body.setAttribute('data-verdict-rows', String(rows));
  document.body.setAttribute('data-verdict-rows-visible', String(visible));
  document.body.setAttribute('data-checked', '1');
});
"""


def _text(s: str) -> str:
    """Escape, then show `backticked` text as code (Markdown's inline code)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_text(s))


def _css_name(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower()).strip("-")


def html_table(frame: pd.DataFrame, compact: bool = False) -> str:
    """The formatted cells as an escaped HTML table (`backticked` text as code); numeric
    columns right-aligned, verdicts coloured. `compact`: the page's width, fixed column
    widths, text cells clipped at two lines (the whole text on hover)."""
    cells = format_frame(frame)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{html_text(c)}</th>" for c in cells.columns)
    rows = []
    for values in cells.itertuples(index=False):
        tds = []
        for col, num, v in zip(cells.columns, numeric, values, strict=True):
            cls = "num" if num else ""
            if col in ("verdict", "verdict_replicate"):
                cls = "v-" + _css_name(v)
            if col == "replication":  # "does not replicate (B: …)": coloured by its head
                cls = "r-" + _css_name(v.split(" (")[0])
            content = _text(v)
            if compact and not num and col != "verdict":
                content = f'<div class="clip" title="{html_text(v)}">{content}</div>'
            tds.append(f'<td class="{cls}">{content}</td>' if cls else f"<td>{content}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    table_class = "tbl compact" if compact else "tbl"
    cols = ""
    if compact:
        cols = "".join(f'<col class="c-{_css_name(c)}">' for c in cells.columns)
        cols = f"<colgroup>{cols}</colgroup>"
    return (
        f'<table class="{table_class}">{cols}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _block(b: Paragraph | Table | Figure) -> str:
    if isinstance(b, Paragraph):
        return f'<p class="{"missing" if b.missing else b.kind}">{_text(b.text)}</p>'
    if isinstance(b, Table):
        body = html_table(b.frame, compact=b.compact)
        return (
            f'<p class="caption">{_text(b.caption)} '
            f'(<a href="tables/{html_text(b.name)}.csv">CSV</a>, '
            f'<a href="tables/{html_text(b.name)}.tex">LaTeX</a>)</p>\n'
            f'<div class="scroll">{body}</div>'
        )
    src = html_text(b.path.as_posix())
    return (
        f'<figure><img src="{src}" alt="{html_text(b.caption.replace("`", ""))}">'
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
