"""Optuna's tables on SQLite, read and written directly: the hot path of write-behind tuning.

RDBStorage goes through the ORM: writing one finished trial costs ~50 round trips (1-3 ms),
reading a study ~5 ms, and the first read of trials in a process ~0.1 s to set up its queries;
on trials of 0.2 s that alone is several percent. Here the same rows are read and written with
a few plain statements on the DBAPI connection of a SQLAlchemy transaction (the engine of
``studies.tuning.storage.open_storage``: ``BEGIN IMMEDIATE``, the write lock taken up front,
so counting a trial's number and inserting it are one atomic step, as RDBStorage's row lock
makes them). Enum columns hold member names and datetimes naive UTC in SQLAlchemy's SQLite
format, as RDBStorage stores them. Only for Optuna's table schema ``SCHEMA_VERSION``
(``supported``; otherwise the caller uses Optuna's own calls). The tests compare every function
here with RDBStorage's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.storages import RDBStorage
from optuna.storages._rdb import models  # Optuna's table definitions and value encodings
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.dialects import sqlite

SCHEMA_VERSION = 12  # Optuna's models.SCHEMA_VERSION these statements are written for (4.x-5.0)

_DATETIME = models.TrialModel.__table__.c.datetime_start.type.dialect_impl(sqlite.dialect())
_TIME_IN = _DATETIME.bind_processor(
    sqlite.dialect()
)  # naive datetime -> '2024-03-31 01:30:05.123456'
_TIME_OUT = _DATETIME.result_processor(sqlite.dialect(), None)
_VALUE_IN = models.TrialValueModel.value_to_stored_repr  # inf -> (None, INF_POS), ...
_VALUE_OUT = models.TrialValueModel.stored_repr_to_value
_VALUE_TYPE = models.TrialValueModel.TrialValueType
_STEP_IN = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr  # NaN too
_STEP_OUT = models.TrialIntermediateValueModel.stored_repr_to_intermediate_value
_STEP_TYPE = models.TrialIntermediateValueModel.TrialIntermediateValueType
_OF_STUDY = "trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)"
_CHILDREN = (
    "trial_params",
    "trial_values",
    "trial_intermediate_values",
    "trial_user_attributes",
    "trial_system_attributes",
)


def supported(storage: RDBStorage) -> bool:
    """SQLite, with the table schema these statements are written for."""
    return storage.engine.dialect.name == "sqlite" and models.SCHEMA_VERSION == SCHEMA_VERSION


@contextmanager
def _cursor(storage: RDBStorage) -> Iterator[sqlite3.Cursor]:
    with storage.engine.begin() as conn:  # committed on leaving, rolled back on an exception
        yield conn.connection.driver_connection.cursor()


def _time(moment: datetime | None) -> str | None:
    """Naive local time as RDBStorage stores it: naive UTC."""
    return None if moment is None else _TIME_IN(moment.astimezone(UTC).replace(tzinfo=None))


def _local(text: str | None) -> datetime | None:
    return (
        None
        if text is None
        else _TIME_OUT(text).replace(tzinfo=UTC).astimezone().replace(tzinfo=None)
    )


def study_id(storage: RDBStorage, name: str) -> int:
    """The id of study ``name``; KeyError when there is none."""
    with _cursor(storage) as cur:
        row = cur.execute("SELECT study_id FROM studies WHERE study_name = ?", (name,)).fetchone()
    if row is None:
        raise KeyError(f"no study named {name!r}")
    return row[0]


def read_trials(storage: RDBStorage, study_id: int) -> list[FrozenTrial]:
    """Every trial of the study in creation order, as ``RDBStorage.get_all_trials`` gives them."""
    with _cursor(storage) as cur:  # one transaction: a consistent snapshot
        trials = cur.execute(
            "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials "
            "WHERE study_id = ? ORDER BY trial_id",
            (study_id,),
        ).fetchall()
        parts = {
            table: cur.execute(
                f"SELECT trial_id, {columns} FROM {table} WHERE {_OF_STUDY} ORDER BY {key}",
                (study_id,),
            ).fetchall()
            for table, columns, key in (
                ("trial_params", "param_name, param_value, distribution_json", "param_id"),
                ("trial_values", "objective, value, value_type", "trial_value_id"),
                (
                    "trial_intermediate_values",
                    "step, intermediate_value, intermediate_value_type",
                    "trial_intermediate_value_id",
                ),
                ("trial_user_attributes", "key, value_json", "trial_user_attribute_id"),
                ("trial_system_attributes", "key, value_json", "trial_system_attribute_id"),
            )
        }
    fields = {row[0]: ({}, {}, {}, {}, {}, {}) for row in trials}
    for trial_id, name, value, text in parts["trial_params"]:
        params, dists = fields[trial_id][:2]
        dists[name] = json_to_distribution(text)
        params[name] = dists[name].to_external_repr(value)
    for trial_id, objective, value, kind in parts["trial_values"]:
        fields[trial_id][2][objective] = _VALUE_OUT(value, _VALUE_TYPE[kind])
    for trial_id, step, value, kind in parts["trial_intermediate_values"]:
        fields[trial_id][3][step] = _STEP_OUT(value, _STEP_TYPE[kind])
    for slot, table in ((4, "trial_user_attributes"), (5, "trial_system_attributes")):
        for trial_id, key, text in parts[table]:
            fields[trial_id][slot][key] = json.loads(text)
    out = []
    for trial_id, number, state, start, complete in trials:
        params, dists, values, steps, user, system = fields[trial_id]
        out.append(
            FrozenTrial(
                number=number,
                state=TrialState[state],
                value=None,
                values=[values[i] for i in range(len(values))] if values else None,
                datetime_start=_local(start),
                datetime_complete=_local(complete),
                params=params,
                distributions=dists,
                user_attrs=user,
                system_attrs=system,
                intermediate_values=steps,
                trial_id=trial_id,
            )
        )
    return out


def claim(storage: RDBStorage, trial_id: int) -> bool:
    """WAITING -> RUNNING (an enqueued trial taken), or False when another process was first;
    what ``RDBStorage.set_trial_state_values(trial_id, RUNNING)`` does."""
    with _cursor(storage) as cur:
        cur.execute(
            "UPDATE trials SET state = 'RUNNING', datetime_start = ? "
            "WHERE trial_id = ? AND state = 'WAITING'",
            (_time(datetime.now()), trial_id),
        )
        return cur.rowcount == 1


def release(storage: RDBStorage, trial_id: int) -> None:
    """A claimed trial that did not run back to WAITING."""
    with _cursor(storage) as cur:
        cur.execute(
            "UPDATE trials SET state = 'WAITING' WHERE trial_id = ? AND state = 'RUNNING'",
            (trial_id,),
        )


def write_trial(
    storage: RDBStorage, study_id: int, trial: FrozenTrial, claimed: int | None = None
) -> int:
    """Write ``trial`` to the study in one transaction and return its number there: a new
    trial (the rows ``RDBStorage.create_new_trial(study_id, template_trial=trial)`` writes,
    numbered as it numbers them), or the RUNNING trial ``claimed`` filled in."""
    with _cursor(storage) as cur:
        return _write(cur, study_id, trial, claimed)


def _write(cur: sqlite3.Cursor, study_id: int, trial: FrozenTrial, claimed: int | None) -> int:
    state, times = trial.state.name, (_time(trial.datetime_start), _time(trial.datetime_complete))
    row = None
    if claimed is not None:
        query = "SELECT number FROM trials WHERE trial_id = ? AND state = 'RUNNING'"
        row = cur.execute(query, (claimed,)).fetchone()
    if row is None:  # a new trial (or the claim was lost: the work is kept all the same)
        count = "SELECT count(*) FROM trials WHERE study_id = ?"
        (number,) = cur.execute(count, (study_id,)).fetchone()
        cur.execute(
            "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) "
            "VALUES (?, ?, ?, ?, ?)",
            (number, study_id, state, *times),
        )
        trial_id = cur.lastrowid
    else:
        (number,), trial_id = row, claimed
        cur.execute(
            "UPDATE trials SET state = ?, datetime_start = ?, datetime_complete = ? "
            "WHERE trial_id = ?",
            (state, *times, trial_id),
        )
        for table in _CHILDREN:  # the enqueued attrs: rewritten below
            cur.execute(f"DELETE FROM {table} WHERE trial_id = ?", (trial_id,))
    dists = trial.distributions
    cur.executemany(
        "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
        "VALUES (?, ?, ?, ?)",
        [
            (trial_id, name, dists[name].to_internal_repr(v), distribution_to_json(dists[name]))
            for name, v in trial.params.items()
        ],
    )
    cur.executemany(
        "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, ?)",
        [(trial_id, i, *_named(_VALUE_IN(v))) for i, v in enumerate(trial.values or [])],
    )
    cur.executemany(
        "INSERT INTO trial_intermediate_values "
        "(trial_id, step, intermediate_value, intermediate_value_type) VALUES (?, ?, ?, ?)",
        [(trial_id, step, *_named(_STEP_IN(v))) for step, v in trial.intermediate_values.items()],
    )
    for table, attrs in (
        ("trial_user_attributes", trial.user_attrs),
        ("trial_system_attributes", trial.system_attrs),
    ):
        cur.executemany(
            f"INSERT INTO {table} (trial_id, key, value_json) VALUES (?, ?, ?)",
            [(trial_id, key, json.dumps(value)) for key, value in attrs.items()],
        )
    return number


def _named(stored: tuple) -> tuple:
    value, kind = stored
    return value, kind.name


def create_study(
    storage: RDBStorage, name: str, user_attrs: dict, enqueued: FrozenTrial | None
) -> bool:
    """The maximising study ``name`` with its user attrs and, if given, one enqueued (WAITING)
    trial, in one transaction: a concurrent reader never sees the study without them. False
    when a study of that name exists (another process was first)."""
    try:
        with _cursor(storage) as cur:
            cur.execute("INSERT INTO studies (study_name) VALUES (?)", (name,))
            new = cur.lastrowid
            cur.execute(
                "INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)",
                ("MAXIMIZE", new),
            )
            cur.executemany(
                "INSERT INTO study_user_attributes (study_id, key, value_json) VALUES (?, ?, ?)",
                [(new, key, json.dumps(value)) for key, value in user_attrs.items()],
            )
            if enqueued is not None:
                _write(cur, new, enqueued, None)
    except sqlite3.IntegrityError:  # study names are unique
        return False
    return True
