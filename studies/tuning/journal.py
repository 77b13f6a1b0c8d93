"""Optuna's journal (``JournalStorage``) kept in a table of a SQLite database: the tuning
studies of a SQLite results store, beside its runs.

``JournalStorage`` replays an append-only log of operations; ``_TableBackend`` is a
``BaseJournalBackend`` (Optuna's public extension point) whose log is the table
``optuna_journal`` (log number, JSON text). An append is one ``BEGIN IMMEDIATE`` transaction
(the write lock taken up front, so numbering the logs and inserting them are one atomic step);
a read selects the logs after the last one this process replayed. Writing a finished trial is
one log (``create_new_trial(template_trial=...)``), ~1 ms, where Optuna's RDBStorage issues
some 50 ORM statements (~20 ms); that is what keeps write-behind tuning's overhead small.

A SQLite file tuned before (Optuna's RDBStorage tables) is copied into the journal once,
through Optuna's public calls (``copy_rdb_studies``); the old tables are left as they were.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import BaseJournalBackend
from sqlalchemy.engine import Engine

from studies.store.engine import connect_args, enable_wal, set_up_sqlite

__all__ = ["JOURNAL_TABLE", "StoreJournal", "copy_rdb_studies"]

JOURNAL_TABLE = "optuna_journal"
_md = sa.MetaData()
_logs = sa.Table(
    JOURNAL_TABLE,
    _md,
    sa.Column("log_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("log", sa.Text, nullable=False),
)


class _TableBackend(BaseJournalBackend):
    """The journal's logs, numbered from 0, in one table. Statements go straight to the
    DBAPI connection (our own table: two statements per append, one per read, where
    SQLAlchemy's per-statement cost would double a finished trial's cost); an append is one
    ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            _md.create_all(conn)  # checkfirst
        self._conn = engine.raw_connection()  # set up by engine's connect listener
        self._lock = threading.Lock()  # the heartbeat thread shares the connection

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        query = f"SELECT log FROM {JOURNAL_TABLE} WHERE log_number >= ? ORDER BY log_number"
        with self._lock:
            cursor = self._conn.driver_connection.cursor()
            try:
                texts = [row[0] for row in cursor.execute(query, (log_number_from,))]
            finally:
                cursor.close()
        return [json.loads(text) for text in texts]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        texts = [json.dumps(log) for log in logs]
        with self._lock:
            cursor = self._conn.driver_connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")  # the write lock first: numbering is atomic
                (last,) = cursor.execute(
                    f"SELECT coalesce(max(log_number), -1) FROM {JOURNAL_TABLE}"
                ).fetchone()
                cursor.executemany(
                    f"INSERT INTO {JOURNAL_TABLE} (log_number, log) VALUES (?, ?)",
                    [(last + 1 + i, text) for i, text in enumerate(texts)],
                )
                cursor.execute("COMMIT")
            except BaseException:
                if self._conn.driver_connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()


class StoreJournal(JournalStorage):
    """``JournalStorage`` on the table ``optuna_journal`` of the SQLite database at ``url``
    (a ``sqlite:///`` URL), on a connection of its own (``engine``) made in this process.

    Picklable as Optuna's storages are: a copy reconnects from ``url`` (a connection is never
    shared between processes) and replays the log. ``close()`` releases the connection."""

    def __init__(self, url: str) -> None:
        parsed = sa.make_url(url)
        engine = sa.create_engine(parsed, connect_args=connect_args(parsed))
        set_up_sqlite(engine, immediate="always")
        enable_wal(engine)
        self.url, self.engine, self.pid = url, engine, os.getpid()
        super().__init__(_TableBackend(engine))

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])

    def close(self) -> None:
        """Close the connection (the object is unusable afterwards)."""
        backend = self._backend
        if isinstance(backend, _TableBackend):
            backend.close()
        self.engine.dispose()


def copy_rdb_studies(url: str, engine: Engine, journal: StoreJournal) -> int:
    """Copy the studies of Optuna's RDBStorage tables at ``url`` that the journal lacks (a
    file tuned before the journal); the number copied. Trials keep their order and numbers."""
    if "studies" not in sa.inspect(engine).get_table_names():
        return 0
    rdb = RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
    try:
        have = {s.study_name for s in journal.get_all_studies()}
        copied = 0
        for study in rdb.get_all_studies():
            if study.study_name in have:
                continue
            study_id = journal.create_new_study(study.directions, study.study_name)
            for key, value in study.user_attrs.items():
                journal.set_study_user_attr(study_id, key, value)
            for key, value in study.system_attrs.items():
                journal.set_study_system_attr(study_id, key, value)
            old_id = rdb.get_study_id_from_name(study.study_name)
            for trial in rdb.get_all_trials(old_id, deepcopy=False):
                journal.create_new_trial(study_id, template_trial=trial)
            copied += 1
        return copied
    finally:
        rdb.engine.dispose()
