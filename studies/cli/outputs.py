"""Where a command may write: the one ``--out`` rule of `report`, `run`, `export`, `compare` and
`budgets` (docs/errors.md). A typed folder must exist or have an existing writable parent; a
report folder may be replaced only when it holds a report; defaults are created."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from studies.cli.common import DEFAULT_OUT

__all__ = ["check_out_dir", "check_out_file", "check_report_out"]


def check_out_file(out: Path, *, force: bool) -> None:
    """``out`` can be written as a new file (or overwritten with ``force``): its folder exists
    and is writable, and it is not a folder."""
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a folder; give a file name")
    _check_folder(out.parent, out)
    if out.exists() and not force:
        raise ValueError(f"--out {str(out)!r} exists; give --force to overwrite it")


def check_report_out(out: str | None) -> None:
    """--out of `report`/`run` can hold the report (the rule of ``check_out_dir``, plus): a new
    folder in an existing writable folder, or a folder that is empty or holds a report
    (replaced whole; anything else is refused, since replacing it would delete files).
    None: the experiments' folder DEFAULT_OUT, created if needed."""
    if out is None:
        folder = Path(DEFAULT_OUT)
        parent = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        _check_folder(parent, folder)
        return
    from reports.build import check_report_folder

    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out!r} is a file; give a folder for the report")
    _check_folder(path.parent, path)  # the report is swapped in from beside it
    try:
        check_report_folder(path)
    except ValueError as exc:
        raise ValueError(f"--out {out!r}: {exc}") from None


def check_out_dir(out: Path, *, default: str | None) -> None:
    """``out`` can hold what `report`, `run`, `export` or `compare` writes: a folder, or a new
    one in an existing writable folder. A missing parent is refused, naming it (a typo would
    otherwise scatter results into new folders); only a default folder (``out`` equal to
    ``default``; None: ``out`` was typed) gets its parents created."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file; give a folder")
    if out.is_dir():
        _check_folder(out, out)
    elif default is None or str(out) != default:
        _check_folder(out.parent, out)


def _check_folder(folder: Path, out: Path) -> None:
    folder = folder if str(folder) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {str(out)!r}: {str(folder)!r} is a file, not a folder")
    if not folder.is_dir():
        raise ValueError(f"--out {str(out)!r}: no folder {str(folder)!r}; create it first")
    try:  # os.access alone says yes to root on a read-only file system (or /proc)
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(
            f"--out {str(out)!r}: the folder {str(folder)!r} is not writable "
            f"({exc.strerror or exc})"
        ) from None
