"""Build a self-contained report directory from a ReportData:

out_dir/index.html       the page (figures linked by relative path)
out_dir/report.md        the same content in Markdown
out_dir/tables/*.csv     every table, raw numbers
out_dir/tables/*.tex     every table, LaTeX (booktabs)
out_dir/figures/*.png    every figure

The report is written into a temporary folder beside out_dir and swapped in whole, so out_dir
never mixes files of two reports (another experiment's, or an older run's), and a build that
fails leaves the previous report as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reports.data import ReportData
from reports.paths import inside
from reports.render import Section, latex_table, render_html, render_markdown
from reports.render.escape import spreadsheet_safe
from reports.sections import make_sections

__all__ = ["REPORT_ENTRIES", "build_report", "check_report_folder"]

REPORT_ENTRIES = frozenset({"index.html", "report.md", "tables", "figures"})


def check_report_folder(out: str | os.PathLike[str]) -> None:
    """`out` may receive a report: it does not exist, or is an empty folder, or holds a report
    and nothing else (REPORT_ENTRIES), which the new report replaces whole. Anything else is
    refused: replacing the folder would delete files that are not a report's."""
    path = Path(out)
    if not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"the report folder {str(path)!r} is a file; give a folder")
    other = sorted(p.name for p in path.iterdir() if p.name not in REPORT_ENTRIES)
    if other:
        shown = ", ".join(other[:5]) + (", …" if len(other) > 5 else "")
        raise ValueError(
            f"the report folder {str(path)!r} holds files that are not a report's ({shown}); "
            "a report replaces its folder whole: give a new or empty folder"
        )


def _beside(out: Path, kind: str) -> Path:
    """A new empty folder beside `out` (same file system, so renames are atomic), made with
    the user's umask (the report stays readable as a folder made by mkdir would be)."""
    for _ in range(100):
        path = out.parent / f".{out.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise OSError(f"cannot make a temporary folder beside {str(out)!r}")


def _swap_in(built: Path, out: Path) -> None:
    """Put the folder `built` at `out`, replacing what was there (two renames on one file
    system; the old report is deleted only once the new one is in place)."""
    if not out.exists():
        os.replace(built, out)
        return
    old = _beside(out, "old")
    os.replace(out, old / "report")
    try:
        os.replace(built, out)
    except OSError:
        os.replace(old / "report", out)  # put the previous report back
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


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
    """Write the report into `out_dir` and return the path of its index.html. `out_dir` is
    replaced whole (check_report_folder: it must be new, empty, or hold only a report).
    Never fails for missing data: each section then says what is missing. A section that
    raises unexpectedly is replaced by the error message and a RuntimeWarning, unless
    `strict=True` (tests), which re-raises. `figures=False` writes the tables and pages
    without drawing any figure; `on_section` is told which section is being built.

    Deterministic: the same frames, in any row order, give byte-identical tables (runs are
    sorted canonically, random states are fixed, CSV floats have 10 significant digits)."""
    if not isinstance(data, ReportData):
        raise ValueError(f"`data` must be a ReportData, but got {type(data).__name__}")
    out = Path(out_dir).resolve()  # `.` too has a name and a parent to swap it in from
    check_report_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = _beside(out, "new")
    try:
        _write(data, work, strict=strict, figures=figures, on_section=on_section)
        _swap_in(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already unless something failed
    return Path(out_dir) / "index.html"


def _write(
    data: ReportData,
    out: Path,
    *,
    strict: bool,
    figures: bool,
    on_section: Callable[[str], None] | None,
) -> None:
    (out / "figures").mkdir()
    (out / "tables").mkdir()
    meta = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **data.meta}
    data = ReportData(**{**{k: getattr(data, k) for k in data.__dataclass_fields__}, "meta": meta})
    sections = make_sections(data, out, strict=strict, draw_figures=figures, on_section=on_section)
    _write_tables(sections, out / "tables")
    (out / "report.md").write_text(render_markdown(sections, meta), encoding="utf-8")
    (out / "index.html").write_text(render_html(sections, meta), encoding="utf-8")
