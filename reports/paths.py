"""File names made from stored values: a store is data from someone else, so a name such as a
dataset's ``x/../../TRAV`` must become a safe slug that stays inside the report's folder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

__all__ = ["inside", "slug"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def slug(name: str) -> str:
    """``name`` if it is made of letters, digits, ``_`` and ``-`` only; otherwise those
    characters with ``_`` for every other run, and 8 hex digits of its hash so that two names
    never share a slug (``x/../TRAV`` -> ``x_TRAV-1f2e3d4c``)."""
    text = str(name)
    if text and not _UNSAFE.search(text) and len(text) <= 100:
        return text
    safe = _UNSAFE.sub("_", text).strip("_")[:80] or "unnamed"
    return f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def inside(folder: Path, name: str, suffix: str) -> Path:
    """``folder / (slug(name) + suffix)``; ValueError if it would leave ``folder`` (it cannot:
    a slug has no separator and no dots, checked all the same)."""
    path = folder / f"{slug(name)}{suffix}"
    if path.resolve().parent != folder.resolve():
        raise ValueError(f"file name {name!r} would leave {str(folder)!r}")
    return path
