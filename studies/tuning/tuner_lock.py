"""One tuner per study on a SQLite storage while it tops the study up to a budget: the budget
holds only then.

On SQLite a study runs write-behind (``studies.tuning.storage``): each tuner optimises an
in-memory copy seeded with the stored trials and sees another tuner's trials from its next start
only, so two tuners topping a study up to ``--trials N`` together would each add what it lacks
(19 for 10 measured). Adding N trials (``--add N``) means N per tuner and may share a study. A
tuner therefore holds an exclusive lock on its study while it tunes it, and a second tuner of
that study is refused with one line. The lock is ``flock`` on a file per study in the folder
``<store>-tuners`` beside the SQLite file (as SQLite keeps ``<store>-wal``): the kernel drops it
when its process ends, kill -9 included, so a dead tuner never blocks the next one. Server
databases (PostgreSQL) share a study live and claim each trial under a lock instead
(``studies.tuning.direct``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

try:
    import fcntl
except ImportError:  # not POSIX: no lock (documented in docs/faults.md)
    fcntl = None

__all__ = ["one_tuner", "sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite storage URL (a path is a SQLite file too); None for a server
    database or an in-memory SQLite."""
    try:
        parsed = sa.make_url(url) if "://" in url else sa.URL.create("sqlite", database=url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@contextmanager
def one_tuner(url: str, study: str) -> Iterator[None]:
    """Hold the lock of ``study`` on the SQLite storage ``url`` while the block runs; a study
    another process holds is a ValueError (nothing is written). Nothing to hold elsewhere."""
    db = sqlite_file(url)
    if db is None or fcntl is None:
        yield
        return
    folder = db.with_name(db.name + "-tuners")
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(study.encode()).hexdigest()[:16]}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(
                f"study {study!r} is being tuned by another process on {str(db)!r}: on SQLite "
                "one tuner per study keeps --trials exact; wait for it to finish (or stop it), "
                "or share the study through a PostgreSQL --storage"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock
