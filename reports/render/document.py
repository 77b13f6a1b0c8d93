"""The report as data: sections made of paragraphs, tables and figures, rendered to HTML and
Markdown by html.py and markdown.py from the same structure, so both say the same things."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = [
    "Figure",
    "Paragraph",
    "Section",
    "Table",
    "format_frame",
    "format_p",
    "format_value",
    "is_p_column",
    "report_title",
]

NA = "—"


@dataclass(frozen=True)
class Paragraph:
    """Text; `missing=True` marks an explanation of why something is not available; `kind`
    "answer" marks the first page's answer (shown larger). Text in backticks is shown as code."""

    text: str
    missing: bool = False
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A table written to tables/<name>.csv and .tex and shown in the page; `compact` tables
    (the first page's verdicts) are drawn one short row per line, long cells clipped in the
    HTML page (hover shows the whole text; the CSV and Markdown keep it)."""

    name: str
    frame: pd.DataFrame
    caption: str
    compact: bool = False


@dataclass(frozen=True)
class Figure:
    """A PNG in figures/ (`path` relative to the report directory)."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: list[Paragraph | Table | Figure] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def report_title(meta: dict) -> str:
    """The report's first line: `Experiment: NAME — title` when meta names the experiment."""
    title = str(meta.get("title", "Landau network benchmark report"))
    experiment = meta.get("experiment")
    return f"Experiment: {experiment} — {title}" if experiment else title


def format_value(v: object) -> str:
    """How a cell reads in the page: 4 significant digits, whole numbers at 1000 and above,
    NA as an em dash."""
    if v is None or v is pd.NA or v is pd.NaT:
        return NA
    if isinstance(v, float):
        if math.isnan(v):
            return NA
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if abs(v) < 5e-10:  # float noise such as 6.8e-17 reads as the 0 it is
            return "0"
        return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    if isinstance(v, bool):
        return str(v)
    try:
        if pd.isna(v):
            return NA
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):  # numpy scalars
        return format_value(v.item())
    return str(v)


def is_p_column(name: object) -> bool:
    """A column of p-values: `p`, `p_value`, `p_holm`, any `p_*` or `*_p`."""
    text = str(name)
    return text == "p" or text.startswith("p_") or text.endswith("_p")


def format_p(p: object) -> str:
    """A p-value in scientific notation with two significant digits (`5.8e-12`, `4.8e-2`),
    never `0`: an exact 0 (a float underflow) reads `< 1e-300`; 1 reads `1`; NA an em dash."""
    try:
        value = float(p)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return format_value(p)
    if math.isnan(value):
        return NA
    if value <= 0:
        return "< 1e-300"
    if value >= 1:
        return "1"
    mantissa, exponent = f"{value:.1e}".split("e")
    return mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}"


def format_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as its display string (object dtype), column names as strings; p-value
    columns (is_p_column) in scientific notation."""
    out = pd.DataFrame(
        {
            str(c): [(format_p if is_p_column(c) else format_value)(v) for v in frame[c].tolist()]
            for c in frame.columns
        },
        index=range(len(frame)),
        dtype=object,
    )
    return out
