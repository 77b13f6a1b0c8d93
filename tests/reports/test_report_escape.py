"""Stored text in HTML, Markdown and CSV: shown as the text it is, never as markup or a formula."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from reports.render.escape import html_text, markdown_text, spreadsheet_safe
from reports.render.html import html_table
from reports.render.markdown import markdown_table

CRAFTED = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\tx",
    "ok",
]


def _csv_cells(frame: pd.DataFrame) -> list[str]:
    text = spreadsheet_safe(frame).to_csv(index=False)
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_a_text_cell_that_starts_a_formula_gets_a_quote_and_numbers_do_not():
    frame = pd.DataFrame(
        {
            "name": CRAFTED,
            "diff": [-1.5, 2.0, -3.0, 0.0, 1.0, -0.25],
            "shown": ["-1.5", "+2", "-x", "=1+1", "1", "-inf"],  # text: numbers stay numbers
            "kind": pd.Categorical(["=a", "b", "c", "d", "e", "f"]),
        }
    )
    cells = _csv_cells(frame)
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t") and c not in ("+2",)]
    assert '\'=HYPERLINK("http://x","y")' in cells and "'\tx" in cells and "'=a" in cells
    assert {"-1.5", "2.0", "-3.0", "-0.25", "+2", "-inf"} <= set(cells)  # numbers untouched
    assert "'-x" in cells and "'=1+1" in cells and "ok" in cells
    assert frame["name"].iloc[0].startswith("=")  # a copy: the frame itself is unchanged


def test_a_formula_as_a_column_name_is_neutralised_too():
    assert list(spreadsheet_safe(pd.DataFrame({"=x": [1], "y": [2]})).columns) == ["'=x", "y"]


def test_html_shows_control_characters_and_markup_as_text():
    out = html_text("a\x00b<script>alert(1)</script>\x1b[31m")
    assert "\x00" not in out and "\x1b" not in out and "<script>" not in out
    assert out == "a\ufffdb&lt;script&gt;alert(1)&lt;/script&gt;\ufffd[31m"
    table = html_table(pd.DataFrame({"variant": ["x\x00<img src=x onerror=alert(1)>"]}))
    assert "\x00" not in table and "<img" not in table


def test_markdown_neutralises_html_and_links_but_keeps_ordinary_text():
    crafted = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) ![t](http://t/p.png)"
    out = markdown_text(crafted)
    assert not re.search(r"(?<!\\)<[a-z]|(?<!\\)\]\(", out)  # each `<tag` and `](` escaped
    assert out == r"\<img src=x onerror=alert(1)> [x\](javascript:alert(1)) ![t\](http://t/p.png)"
    ordinary = "p_holm < 0.05, 95% interval [14.3, 64.4]%, `code`"
    assert markdown_text(ordinary) == ordinary
    table = markdown_table(pd.DataFrame({"variant": ["a|b\nc<b>\x00"], "n": [1.5]}))
    assert r"a\|b c\<b>" + "\ufffd" in table and len(table.splitlines()) == 3
