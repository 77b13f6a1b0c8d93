"""The results store: finished runs, their epochs, betas and meshes in one SQLAlchemy database.

Tables and DataFrame columns follow docs/data-model.md ("Results store"). A run is written in
one transaction (run row, epoch rows, mesh), so a process killed at any moment leaves it either
fully stored or absent; ``run_id`` is the primary key, so it is never stored twice. Other tables
in the same database (Optuna's) are left alone; ``landau_meta`` marks the database as ours.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from studies.store.engine import (
    check_sqlite_file,
    connect_args,
    creation_lock,
    enable_wal,
    set_up_sqlite,
    sqlalchemy_url,
)
from studies.store.experiments import ExperimentsMixin
from studies.store.migrate import migrate
from studies.store.records import RunRecord
from studies.store.rows import (
    epoch_record,
    epoch_rows,
    loads,
    mesh_row,
    params_columns,
    plain,
    run_row,
    typed_frame,
)
from studies.store.schema import (
    _BETA_DTYPES,
    _EPOCH_DTYPES,
    _EPOCH_FLOATS,
    _KEY,
    _KIND,
    _MESH_DTYPES,
    _POINT_DTYPES,
    _RANKING_DTYPES,
    _RUN_DTYPES,
    SCHEMA_VERSION,
    _md,
    epochs,
    landau_meta,
    loss_ranking,
    meshes,
    points,
    runs,
)

__all__ = ["SCHEMA_VERSION", "Store", "StoreError"]


class StoreError(ValueError):
    """The database cannot be opened, or is not a landau results store."""


def _reason(exc: BaseException) -> str:
    """One line of an exception, without SQLAlchemy's [SQL: ...] and background link."""
    text = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _make_engine(url: str | Path) -> Engine:
    text = str(url)
    try:
        parsed = sqlalchemy_url(text)
        engine = sa.create_engine(parsed, connect_args=connect_args(parsed))
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open results store {text!r}: {_reason(exc)}") from exc
    if engine.dialect.name == "sqlite":
        set_up_sqlite(engine, immediate="writes")
    return engine


class Store(ExperimentsMixin):
    """The results store at ``url``: any SQLAlchemy URL, or a file path (-> a SQLite file)."""

    def __init__(self, url: str | Path) -> None:
        self._engine = _make_engine(url)
        self.url = self._engine.url.render_as_string(hide_password=True)
        try:
            self._open()
        except BaseException:
            self._engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    # ---- opening ----------------------------------------------------------------------------

    def _tables(self) -> set[str]:
        try:
            with self._engine.connect() as conn:
                return set(sa.inspect(conn).get_table_names())
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open results store {self.url!r}: {_reason(exc)}") from exc

    def _open(self) -> None:
        tables = self._tables()
        if "landau_meta" not in tables and tables:
            shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
            raise StoreError(
                f"{self.url!r} is not a landau results store: it holds tables ({shown}) but no "
                f"landau_meta table; give a new file or an empty database"
            )
        if self._engine.dialect.name == "sqlite":
            try:
                check_sqlite_file(self._engine.url)
            except ValueError as exc:
                raise StoreError(str(exc)) from None
        if not set(_md.tables) <= tables:
            with creation_lock(self._engine.url):  # PostgreSQL: one creator at a time
                self._initialise()
        with self._engine.connect() as conn:
            meta = dict(conn.execute(sa.select(landau_meta.c.key, landau_meta.c.value)).all())
        if meta.get("kind") != _KIND:
            raise StoreError(f"{self.url!r} has a landau_meta table without a landau marker")
        version = meta.get("schema_version")
        if version is None or not str(version).isascii() or not str(version).isdigit():
            raise StoreError(
                f"{self.url!r} is a landau results store with a schema_version that is not a "
                f"whole number: schema_version={version!r} (was it edited by hand?)"
            )
        if int(meta["schema_version"]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.url!r} has schema_version={meta['schema_version']}, newer than this "
                f"landau-bench understands ({SCHEMA_VERSION}); upgrade landau-bench"
            )
        if int(meta["schema_version"]) < SCHEMA_VERSION:
            self._migrate()
        enable_wal(self._engine)  # only now, once the file is known to be ours: WAL persists

    def _initialise(self) -> None:
        try:
            with self._writing() as conn:
                _md.create_all(conn)  # checkfirst: a concurrent opener may have been first
                have = set(conn.execute(sa.select(landau_meta.c.key)).scalars())
                meta = {"kind": _KIND, "schema_version": str(SCHEMA_VERSION)}
                rows = [{"key": k, "value": v} for k, v in meta.items() if k not in have]
                if rows:
                    conn.execute(sa.insert(landau_meta), rows)
        except SQLAlchemyError as exc:  # PostgreSQL: a concurrent opener created them first?
            if not set(_md.tables) <= self._tables():
                raise StoreError(f"cannot initialise {self.url!r}: {_reason(exc)}") from exc

    def _migrate(self) -> None:
        try:
            with self._writing() as conn:
                migrate(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate {self.url!r}: {_reason(exc)}") from exc

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(landau_write=True)
            with conn.begin():
                yield conn

    def _rows(self, stmt: Any) -> list[Any]:
        with self._engine.connect() as conn:
            return list(conn.execute(stmt).all())

    # ---- writing ----------------------------------------------------------------------------

    def completed_ids(self) -> set[str]:
        """Every stored run_id, whatever its status (ok, diverged or failed)."""
        return {r.run_id for r in self._rows(sa.select(runs.c.run_id))}

    def code_fingerprints(self) -> dict[str, str | None]:
        """run_id -> the fingerprint of the code that produced it (None: stored before it was
        recorded, code unknown)."""
        return dict(self._rows(sa.select(runs.c.run_id, runs.c.code_fingerprint)))

    def write_run(self, record: RunRecord, *, replace: bool = False) -> bool:
        """Store a run with its epochs and mesh atomically; False if it was already stored.

        ``replace``: a stored run of this id (one produced by other code, retrained) is deleted
        with its epochs and mesh in the same transaction; memberships and settings stay."""
        exists = sa.select(runs.c.run_id).where(runs.c.run_id == record.run_id)
        try:
            with self._writing() as conn:
                if replace:
                    for table in (epochs, meshes, runs):
                        conn.execute(sa.delete(table).where(table.c.run_id == record.run_id))
                elif conn.execute(exists).first():
                    return False
                conn.execute(sa.insert(runs), [run_row(record)])
                if record.epoch_records:
                    conn.execute(sa.insert(epochs), epoch_rows(record))
                if record.mesh is not None:
                    conn.execute(sa.insert(meshes), [mesh_row(record)])
        except IntegrityError:
            if self._rows(exists):  # a concurrent writer stored it first (PostgreSQL)
                return False
            raise
        return True

    def write_points(
        self, dataset: str, x: Sequence[float], y: Sequence[float], labels: Sequence[int]
    ) -> bool:
        """Store the overlay points of ``dataset`` once; False if they were already stored."""
        xs, ys, ls = list(x), list(y), list(labels)
        if not len(xs) == len(ys) == len(ls):
            raise ValueError(
                f"`len(x) == len(y) == len(labels)` must hold, but got {len(xs)}, {len(ys)}, "
                f"{len(ls)}"
            )
        rows = [
            {"dataset": dataset, "point": i, "x": float(a), "y": float(b), "label": int(c)}
            for i, (a, b, c) in enumerate(zip(xs, ys, ls, strict=True))
        ]
        exists = sa.select(points.c.dataset).where(points.c.dataset == dataset).limit(1)
        try:
            with self._writing() as conn:
                if conn.execute(exists).first():
                    return False
                if rows:
                    conn.execute(sa.insert(points), rows)
        except IntegrityError:
            if self._rows(exists):
                return False
            raise
        return True

    def write_loss_ranking(self, frame: pd.DataFrame) -> None:
        """Replace the stored loss ranking with ``frame`` (columns as loss_ranking_frame())."""
        missing = [c for c in _RANKING_DTYPES if c not in frame.columns]
        if missing:
            raise ValueError(
                f"a loss ranking frame must have columns {', '.join(_RANKING_DTYPES)}, "
                f"but it lacks {', '.join(missing)}"
            )
        records = frame[list(_RANKING_DTYPES)].to_dict("records")
        rows = [{c: plain(v, _RANKING_DTYPES[c]) for c, v in r.items()} for r in records]
        with self._writing() as conn:
            conn.execute(sa.delete(loss_ranking))
            if rows:
                conn.execute(sa.insert(loss_ranking), rows)

    # ---- reading ----------------------------------------------------------------------------

    def read_run(self, run_id: str) -> RunRecord | None:
        """The stored record of ``run_id`` (None if absent). SQLite reads NaN back as None."""
        found = self._rows(sa.select(runs).where(runs.c.run_id == run_id))
        if not found:
            return None
        row = found[0]._mapping
        stored = self._rows(
            sa.select(epochs).where(epochs.c.run_id == run_id).order_by(epochs.c.epoch)
        )
        mesh = self._rows(sa.select(meshes.c.payload).where(meshes.c.run_id == run_id))
        return RunRecord(
            **{name: row[name] for name in _RUN_DTYPES},
            params=loads(row["params"]),
            config=loads(row["config"]),
            initial_betas=loads(row["initial_betas"]),
            epoch_records=[epoch_record(e._mapping) for e in stored],
            mesh=loads(mesh[0].payload) if mesh else None,
        )

    def runs_frame(self) -> pd.DataFrame:
        """One row per run: the documented columns, created_at, then one hp_<name> per param."""
        cols = [runs.c[n] for n in _RUN_DTYPES]
        rows = self._rows(
            sa.select(*cols, runs.c.created_at, runs.c.params).order_by(runs.c.run_id)
        )
        frame = typed_frame([r[:-1] for r in rows], {**_RUN_DTYPES, "created_at": "datetime64[us]"})
        return frame.join(params_columns([loads(r.params) for r in rows], "hp_", frame.index))

    def _keyed(self, *extra: Any, source: sa.Table = epochs) -> Any:
        key = [runs.c[n] for n in _KEY]
        return sa.select(*key, *extra).join_from(source, runs, source.c.run_id == runs.c.run_id)

    def epochs_frame(self) -> pd.DataFrame:
        stmt = self._keyed(epochs.c.epoch, *(epochs.c[n] for n in _EPOCH_FLOATS))
        return typed_frame(self._rows(stmt.order_by(runs.c.run_id, epochs.c.epoch)), _EPOCH_DTYPES)

    def betas_frame(self) -> pd.DataFrame:
        """Long form, one row per (run, epoch, layer, unit); epoch 0 is the initial beta."""
        initial = sa.select(*(runs.c[n] for n in _KEY), sa.literal(0), runs.c.initial_betas)
        later = self._rows(self._keyed(epochs.c.epoch, epochs.c.betas))
        rows = [
            (*r[:-1], layer, unit, beta)
            for r in [*self._rows(initial), *later]
            for layer, values in loads(r[-1]).items()
            for unit, beta in enumerate(values)
        ]
        frame = typed_frame(rows, _BETA_DTYPES).sort_values(["run_id", "epoch", "layer", "unit"])
        return frame.reset_index(drop=True)

    def meshes_frame(self) -> pd.DataFrame:
        """One row per (run, mesh point): the predicted class of each run on the fixed mesh."""
        parts = []
        for r in self._rows(self._keyed(meshes.c.payload, source=meshes).order_by(runs.c.run_id)):
            payload = loads(r.payload)
            part = pd.DataFrame({k: payload[k] for k in ("x", "y", "pred")})
            parts.append(part.assign(**{k: r._mapping[k] for k in _KEY}))
        frame = pd.concat([typed_frame([], _MESH_DTYPES), *parts], ignore_index=True)
        return frame[list(_MESH_DTYPES)].astype(_MESH_DTYPES)

    def points_frame(self) -> pd.DataFrame:
        cols = [points.c[n] for n in _POINT_DTYPES]
        return typed_frame(
            self._rows(sa.select(*cols).order_by(points.c.dataset, points.c.point)), _POINT_DTYPES
        )

    def loss_ranking_frame(self) -> pd.DataFrame:
        t = loss_ranking.c
        stmt = sa.select(*(t[n] for n in _RANKING_DTYPES)).order_by(
            t.alpha, t.gamma, t.rank, t.prediction
        )
        return typed_frame(self._rows(stmt), _RANKING_DTYPES)

    def export(self, path: str | Path, format: Literal["csv", "parquet"] = "csv") -> Path:
        """Write runs_frame() to ``path`` as CSV or Parquet."""
        if format not in ("csv", "parquet"):
            raise ValueError(f"unknown export format {format!r}; known: csv, parquet")
        path, frame = Path(path), self.runs_frame()
        if format == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path
