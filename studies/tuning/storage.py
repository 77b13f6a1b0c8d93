"""Optuna's storage for the tuning studies: opening it (once per process), creating a study,
and running one against it write-behind or directly.

Studies live in a SQLAlchemy database (Optuna's RDBStorage; by default the results store's
SQLite file, beside the runs the report joins them with, where optuna-dashboard opens them;
not a journal file that every process replays). ``run_study`` works in one of two ways:

* write-behind (SQLite): the study is optimised on an in-memory copy seeded with its stored
  trials, and each finished trial is written with one short transaction
  (``studies.tuning.rows``); sampling and pruning never wait on the database (Optuna's own
  calls cost a commit per suggest and per report, and a re-read of the study per pruning
  decision). A killed process loses the trial in flight only; processes sharing a study see
  each other's trials from their next start.
* direct (server databases such as PostgreSQL): Optuna's RDBStorage calls, so that processes
  sharing a study see each other's trials while they run.

SQLite connections are set up for several processes: WAL with ``synchronous=NORMAL`` (a commit
survives a killed process; a power cut may lose the last commits, not the file), ``BEGIN
IMMEDIATE`` for every transaction (in WAL a deferred transaction that reads and then writes
fails at once with SQLITE_BUSY when another process committed in between) and a busy timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import optuna
import sqlalchemy as sa
from optuna.exceptions import DuplicatedStudyError
from optuna.storages import InMemoryStorage, RDBStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState, create_trial

from studies.store.engine import connect_args, enable_wal, set_up_sqlite
from studies.tuning import rows

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_OPEN: dict[str, RDBStorage] = {}  # per process: RDBStorage's set-up costs ~0.2 s (alembic)


def storage_url(url: str | Path) -> str:
    """A SQLAlchemy URL as given, or a file path as a SQLite URL."""
    text = str(url)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def shown(url: str) -> str:
    """``url`` without its password."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def open_storage(url: str | Path, *, create: bool = True) -> RDBStorage | None:
    """RDBStorage at ``url``, opened once per process; with ``create=False`` None when Optuna's
    tables are absent (the database is left as it is). ValueError when it cannot be opened."""
    text = storage_url(url)
    if text in _OPEN:
        return _OPEN[text]
    try:
        backend = sa.make_url(text).get_backend_name()
        if not create and not _has_tables(text, backend):
            return None
        args = connect_args(sa.make_url(text))
        storage = RDBStorage(text, engine_kwargs={"connect_args": args})
        if backend == "sqlite":
            set_up_sqlite(storage.engine, immediate="always")
            enable_wal(storage.engine)
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, OSError, RuntimeError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
        raise ValueError(f"cannot open Optuna storage {shown(text)!r}: {reason[0]}") from None
    _OPEN[text] = storage
    return storage


def _has_tables(url: str, backend: str) -> bool:
    if backend == "sqlite" and not Path(sa.make_url(url).database or "").is_file():
        return False
    engine = sa.create_engine(url)
    try:
        return "studies" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def supports_write_behind(storage: RDBStorage) -> bool:
    """SQLite, with the table schema ``studies.tuning.rows`` reads and writes."""
    return rows.supported(storage)


def study_trials(storage: RDBStorage, name: str) -> tuple[int, list[FrozenTrial]]:
    """The id of study ``name`` and its trials (KeyError when there is no such study)."""
    if rows.supported(storage):
        study_id = rows.study_id(storage, name)
        return study_id, rows.read_trials(storage, study_id)
    study_id = storage.get_study_id_from_name(name)
    return study_id, storage.get_all_trials(study_id, deepcopy=False)


def create_study(
    storage: RDBStorage, name: str, user_attrs: dict, enqueued: FrozenTrial | None
) -> bool:
    """Create the maximising study ``name`` with its user attrs and, if given, one enqueued
    (WAITING) trial; False when it exists (another process was first)."""
    if rows.supported(storage):
        return rows.create_study(storage, name, user_attrs, enqueued)  # in one transaction
    try:
        study_id = storage.create_new_study([StudyDirection.MAXIMIZE], name)
    except DuplicatedStudyError:
        return False
    for key, value in user_attrs.items():
        storage.set_study_user_attr(study_id, key, value)
    if enqueued is not None:
        storage.create_new_trial(study_id, template_trial=enqueued)
    return True


def run_study(
    storage: RDBStorage,
    study_id: int,
    stored: list[FrozenTrial],
    objective: Callable,
    n_trials: int,
    *,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    callbacks: list,
    write_behind: bool,
) -> list[FrozenTrial]:
    """Run ``n_trials`` trials of ``objective`` (an exception fails its trial only) on the study
    whose trials were ``stored``; return its finished trials, numbered as in ``storage``.

    Write-behind: on an in-memory study seeded with the stored finished trials and the enqueued
    ones this process claims, each finished trial written with one transaction as it ends (new
    trials of other processes are not seen). Otherwise on the storage, step by step."""
    if not write_behind:
        name = storage.get_study_name_from_id(study_id)
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        if n_trials > 0:
            study.optimize(objective, n_trials, catch=(Exception,), callbacks=callbacks)
        return study.get_trials(deepcopy=False, states=FINISHED)
    done = [t for t in stored if t.state in FINISHED]
    if n_trials == 0:
        return done
    memory = optuna.create_study(
        storage=InMemoryStorage(), direction="maximize", sampler=sampler, pruner=pruner
    )
    memory.add_trials(done)  # in-memory numbers 0..len(done)-1
    claimed = {}  # in-memory number -> trial id in storage
    for trial in stored:
        if len(claimed) < n_trials and trial.state == TrialState.WAITING:
            if rows.claim(storage, trial._trial_id):  # else another process took it
                claimed[len(done) + len(claimed)] = trial._trial_id
                attrs = {"user_attrs": trial.user_attrs, "system_attrs": trial.system_attrs}
                memory.add_trial(create_trial(state=TrialState.WAITING, **attrs))
    written = []

    def write(_study, trial: FrozenTrial) -> None:
        number = rows.write_trial(storage, study_id, trial, claimed.get(trial.number))
        claimed.pop(trial.number, None)
        trial.number = number
        written.append(trial)

    try:
        memory.optimize(objective, n_trials, catch=(Exception,), callbacks=[write, *callbacks])
    finally:
        for trial_id in claimed.values():  # claimed, but interrupted before they ran
            rows.release(storage, trial_id)
    return done + written
