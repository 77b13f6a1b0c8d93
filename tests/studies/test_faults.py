"""Faults beyond bad input (docs/faults.md): a damaged SQLite file, an export or a report
interrupted by a signal, a tune interrupted in a trial. Each ends in one line and the stated
exit status, and leaves nothing half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studies.cli import main

GRID = ["--variants", "logreg", "--datasets", "moons", "--seeds", "2", "--depths", "1"]
GRID += ["--epochs", "1", "--no-progress"]


def _sha(path: Path) -> bytes:
    import hashlib

    return hashlib.sha256(path.read_bytes()).digest()


@pytest.fixture
def stored(tmp_path) -> Path:
    """A small store with runs (its WAL checkpointed into the file)."""
    db = tmp_path / "r.db"
    assert main(["grid", *GRID, "--store", str(db)]) == 0
    return db


def _corrupt(db: Path, table: str) -> None:
    """Garbage over the second half of ``table``'s root page: PRAGMA quick_check fails."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with db.open("r+b") as f:
        f.seek((page - 1) * size + size // 2)
        f.write(b"\xa5" * (size // 2))
    with sqlite3.connect(db) as conn:
        try:
            assert conn.execute("PRAGMA quick_check").fetchone() != ("ok",)
        except sqlite3.DatabaseError:
            pass  # malformed: as damaged


@pytest.mark.parametrize(
    "command",
    [
        ["grid", *GRID, "--seeds", "3"],
        ["tune", "--variant", "logreg", "--dataset", "moons", "--trials", "1", "--epochs", "1",
         "--no-progress"],  # fmt: skip
        ["export", "--format", "csv", "--out", "{tmp}/export"],
        ["report", "--out", "{tmp}/report"],
    ],
    ids=["grid", "tune", "export", "report"],
)
def test_a_damaged_store_is_refused_with_one_line_and_left_as_it_is(
    stored, tmp_path, capsys, command
):
    _corrupt(stored, "epochs")
    before = _sha(stored)
    capsys.readouterr()
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert main([*args, "--store", str(stored)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged" in err[0] and "quick_check" in err[0], err
    assert _sha(stored) == before
