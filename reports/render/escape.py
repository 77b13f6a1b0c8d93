"""Stored text made safe for where the report puts it: HTML, Markdown and spreadsheets.

Names and error messages come from the store, which may have been written by someone else
(a crafted store): a NUL byte, a `<script>` tag, a Markdown link or a spreadsheet formula in a
variant or experiment name must reach the page as the text it is, never as markup or a formula.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pandas as pd

__all__ = ["FORMULA_START", "html_text", "markdown_text", "spreadsheet_safe", "visible"]

REPLACEMENT = "\ufffd"  # what a control character is shown as
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); tab and carriage return start one after a cell separator.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str, *, keep: str = "\n\t") -> str:
    """``text`` with every control character but those in ``keep`` replaced by U+FFFD (a NUL
    byte is not valid in an HTML page, an escape sequence rewrites a terminal)."""
    return "".join(
        REPLACEMENT if unicodedata.category(c) == "Cc" and c not in keep else c for c in text
    )


def html_text(text: object) -> str:
    """``text`` escaped for HTML content and attribute values, control characters visible."""
    return html.escape(visible(str(text)))


_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # a tag or an autolink; `p < 0.05` stays as it is
_MD_LINK = re.compile(r"\](?=[(\[])")  # the `](` or `][` of a link or an image


def markdown_text(text: object, *, cell: bool = False) -> str:
    """``text`` for Markdown: raw HTML (``<script>``, ``<img …>``) and links or images
    (``[x](javascript:…)``, ``![](http://…)``) escaped with a backslash, so that they read as
    the text they are; control characters visible. In a table ``cell`` also ``|``, ``\\`` and
    line breaks (a cell is one line)."""
    out = visible(str(text), keep="" if cell else "\n\t")
    if cell:
        out = out.replace("\\", "\\\\").replace("|", "\\|")
    out = _MD_LINK.sub(r"\\]", _MD_TAG.sub(r"\\<", out))
    return out


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for a CSV file: a text cell that a spreadsheet would run as a formula
    (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``,
    which spreadsheets show as text; column names too. Numbers, and text that reads as a number
    (``-1.5``), are left alone."""

    def cell(value: object) -> object:
        if isinstance(value, str) and value.startswith(FORMULA_START) and not _number(value):
            return "'" + value
        return value

    out = frame.copy()
    for column in out.columns:
        dtype = out[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out[column] = out[column].cat.rename_categories(cell)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            out[column] = out[column].map(cell, na_action="ignore")
    out.columns = [cell(c) for c in out.columns]
    return out
