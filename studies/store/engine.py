"""Database engines, set up in one place for the results store and the Optuna storage.

SQLite is shared by several processes (grid workers, tuners): every connection gets a busy
timeout (wait for a writer instead of failing), foreign keys, and ``synchronous = NORMAL`` (in WAL
mode a commit survives a killed process; a power cut may lose the last commits, not the file).
Transactions that write begin with ``BEGIN IMMEDIATE``: in WAL a deferred transaction that reads
and then writes fails at once with SQLITE_BUSY when another process committed in between.
PostgreSQL gets a connect timeout, so an unreachable server is an error, not a hang.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "SQLITE_BUSY_S",
    "check_sqlite_file",
    "connect_args",
    "creation_lock",
    "foreign_sqlite_tables",
    "enable_wal",
    "set_up_sqlite",
    "sqlalchemy_url",
]

SQLITE_BUSY_S = 60
_PG_CONNECT_TIMEOUT_S = 10


def sqlalchemy_url(url: str | Path) -> sa.URL:
    """A SQLAlchemy URL as given, or a file path as a SQLite URL (ArgumentError when malformed)."""
    text = str(url)
    return sa.make_url(text) if "://" in text else sa.URL.create("sqlite", database=text)


def connect_args(url: sa.URL) -> dict[str, Any]:
    """DBAPI connect arguments: SQLite's busy wait, PostgreSQL's connect timeout."""
    if url.get_backend_name() == "sqlite":
        return {"timeout": SQLITE_BUSY_S}
    if url.get_backend_name() == "postgresql" and url.drivername in (
        "postgresql",
        "postgresql+psycopg",
        "postgresql+psycopg2",
    ):
        return {"connect_timeout": _PG_CONNECT_TIMEOUT_S}
    return {}


def set_up_sqlite(engine: Engine, *, immediate: str = "always") -> None:
    """Install the connection set-up on a SQLite ``engine``.

    ``immediate="always"`` begins every transaction with BEGIN IMMEDIATE (Optuna's storage, whose
    transactions we cannot label); ``"writes"`` only those run with the execution option
    ``landau_write=True`` (the results store: readers do not queue behind writers).
    """
    if immediate not in ("always", "writes"):
        raise ValueError(f"unknown immediate mode {immediate!r}; known: always, writes")
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _begin_always if immediate == "always" else _begin_writes)
    engine.dispose()  # connections opened before the listeners would lack the set-up


def enable_wal(engine: Engine) -> None:
    """Switch a SQLite file to WAL (persistent; done once the file is known to be ours)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as conn:  # outside any transaction, as WAL requires
        try:
            conn.connection.driver_connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:  # busy: stays as it is (only slower to commit)
            pass


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # BEGIN is ours (the "begin" listener), not pysqlite's
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_S * 1000}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_always(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_writes(conn: Connection) -> None:
    write = conn.get_execution_options().get("landau_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


_LANDAU_TABLES = {"landau_meta"}
_CREATION_LOCK = 0x6C616E64  # pg_advisory_lock key ("land"): table creation, one at a time


def foreign_sqlite_tables(url: sa.URL, *, allowed: set[str]) -> str:
    """ "" when the SQLite file at ``url`` is absent, empty, a landau store or holds ``allowed``
    tables; else the first of its tables, shown (a foreign file, to be refused)."""
    path = Path(url.database or "")
    if url.database in (None, "", ":memory:") or not path.is_file() or path.stat().st_size == 0:
        return ""
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_S)
    try:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        names = {row[0] for row in conn.execute(query)}
    except sqlite3.DatabaseError as exc:  # not a SQLite file at all
        return f"none readable: {exc}"
    finally:
        conn.close()
    if not names or names & (_LANDAU_TABLES | allowed):
        return ""
    shown = sorted(names)
    return ", ".join(shown[:5]) + (", …" if len(shown) > 5 else "")


def check_sqlite_file(url: sa.URL) -> None:
    """ValueError when the SQLite file at ``url`` exists but fails ``PRAGMA quick_check``
    (corrupt pages): writing into it would spread the damage and reading it fails later with a
    traceback. An absent or empty file passes (it is about to be created)."""
    path = Path(url.database or "")
    if url.database in (None, "", ":memory:") or not path.is_file() or path.stat().st_size == 0:
        return
    stat = path.stat()
    seen = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if seen in _CHECKED:  # opened again by the same command: checked already (~8 ms per MB)
        return
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_S)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
    except sqlite3.DatabaseError as exc:  # e.g. "database disk image is malformed"
        problems = [str(exc)]
    finally:
        conn.close()
    if problems != ["ok"]:
        first = " ".join(problems[0].replace("*** in database main ***", "").split())
        raise ValueError(
            f"{str(path)!r} is damaged (SQLite's quick_check: {first}); nothing was "
            f"written to it: restore it from a copy, or save what is readable with "
            f"`sqlite3 {path} .recover | sqlite3 recovered.db`"
        )
    _CHECKED.add(seen)


_CHECKED: set[tuple[str, int, int]] = set()  # (file, mtime, size) that passed, per process


@contextmanager
def creation_lock(url: sa.URL) -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock while tables are created: two processes
    creating them at once collide on ``pg_type_typname_nsp_index``. Elsewhere nothing."""
    if url.get_backend_name() != "postgresql":
        yield
        return
    engine = sa.create_engine(url, connect_args=connect_args(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _CREATION_LOCK})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _CREATION_LOCK})
                conn.commit()
    finally:
        engine.dispose()
