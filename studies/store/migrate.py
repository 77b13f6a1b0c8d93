"""Upgrading a results store in place, one schema version at a time, in one transaction.

Version 1 -> 2 adds the run columns of ``schema.ADDED_IN_2`` (``data_seed`` back-filled from each
run's stored config, the others NULL: they were not measured), the experiments tables, and makes
every stored run a member of the experiment named after its grid (what ``--experiment``
defaults to), so that an old store reports as before.

Version 2 -> 3 adds the code-identity columns of ``schema.ADDED_IN_3`` (NULL: the code that
produced those runs is unknown, so a grid reports them as coming from other code).

Version 3 -> 4 adds ``population`` (NULL: the composition runs were trained in was not recorded).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from studies.store.schema import (
    ADDED_IN_2,
    ADDED_IN_3,
    ADDED_IN_4,
    SCHEMA_VERSION,
    _md,
    experiment_runs,
    experiment_studies,
    experiments,
    landau_meta,
    runs,
)

__all__ = ["migrate"]


def migrate(conn: Connection) -> None:
    """Bring the store behind ``conn`` (inside a write transaction) to SCHEMA_VERSION."""
    version = int(
        conn.execute(
            sa.select(landau_meta.c.value).where(landau_meta.c.key == "schema_version")
        ).scalar_one()
    )
    if version < 2:
        _to_2(conn)
    if version < 3:
        _add_columns(conn, ADDED_IN_3)
    if version < 4:
        _add_columns(conn, ADDED_IN_4)
    conn.execute(
        sa.update(landau_meta)
        .where(landau_meta.c.key == "schema_version")
        .values(value=str(SCHEMA_VERSION))
    )


def _add_columns(conn: Connection, columns: dict) -> None:
    have = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    for name, type_ in columns.items():
        if name not in have:
            sql_type = sa.Column(name, type_).type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {name} {sql_type}")


def _to_2(conn: Connection) -> None:
    _add_columns(conn, ADDED_IN_2)
    _md.create_all(conn, tables=[experiments, experiment_runs, experiment_studies])
    stored = conn.execute(sa.select(runs.c.run_id, runs.c.grid, runs.c.config)).all()
    for run_id, _, config in stored:
        data_seed = int(json.loads(config).get("data_seed", 0))
        conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(data_seed=data_seed))
    now = datetime.now(UTC).replace(tzinfo=None)
    names = sorted({grid for _, grid, _ in stored if grid})
    if names:
        conn.execute(
            sa.insert(experiments),
            [{"name": n, "created_at": now, "updated_at": now} for n in names],
        )
        conn.execute(
            sa.insert(experiment_runs),
            [{"experiment": g, "run_id": r} for r, g, _ in stored if g],
        )
