"""Optuna's storage for the tuning studies, through Optuna's public API only: opening it (once
per process), creating a study, failing and re-running the trials of dead processes, and running
a study against it write-behind or directly.

Where studies live (``open_storage``):

* a SQLite file (by default the results store, beside the runs the report joins them with):
  Optuna's ``JournalStorage`` on the table ``optuna_journal`` (``studies.tuning.journal``).
  Studies run write-behind: optimised on an in-memory copy seeded with the stored trials, each
  finished trial written as one journal log (``create_new_trial(template_trial=trial)``, ~1 ms);
  sampling and pruning never wait on the database. A killed process loses the trial in flight
  only; one process tunes a study at a time (``studies.tuning.tuner_lock``).
* a server database (PostgreSQL, ...): Optuna's ``RDBStorage``, and Optuna's own calls on it
  (direct), so that processes sharing a study see each other's trials while they run; each
  trial is claimed under a per-study lock, so a budget holds (``studies.tuning.direct``).

``open_storage`` keeps one storage per (process, URL): a forked child opens its own connection.

Trials of dead processes (heartbeats, failing stale trials and enqueuing them again, what a
budget counts) are ``studies.tuning.liveness``.

SQLite connections are set up for several processes (``studies.store.engine``): WAL,
``BEGIN IMMEDIATE`` and a busy timeout; on PostgreSQL the first creation of Optuna's tables is
serialised with an advisory lock (two tuners starting together on a fresh database raced).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import sqlalchemy as sa
from optuna.exceptions import DuplicatedStudyError, ExperimentalWarning
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState, create_trial

from studies.store.engine import (
    check_sqlite_file,
    connect_args,
    creation_lock,
    foreign_sqlite_tables,
)
from studies.tuning.direct import run_direct, tell
from studies.tuning.journal import JOURNAL_TABLE, StoreJournal, copy_rdb_studies
from studies.tuning.liveness import (
    FINISHED,
    GRACE_S,
    HEARTBEAT_S,
    Heartbeat,
    beat,
    retry_stale,
)

_OPTUNA_TABLES = {JOURNAL_TABLE, "studies", "trials", "alembic_version"}
# (pid, URL) -> storage: opening costs ~0.2 s (RDB: alembic); keyed by process too, since a
# forked child must not share its parent's connection (SQLite's locks are per process).
_OPEN: dict[tuple[int, str], BaseStorage] = {}


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


def open_storage(url: str | Path, *, create: bool = True) -> BaseStorage | None:
    """The storage at ``url`` (a SQLite file: ``StoreJournal``; else RDBStorage), opened once
    per process; with ``create=False`` None when it holds no studies' tables (the database is
    left as it is). ValueError when it cannot be opened, or when it is a SQLite file holding
    other tables than a landau store's and Optuna's."""
    text = storage_url(url)
    if (os.getpid(), text) in _OPEN:
        return _OPEN[os.getpid(), text]
    try:
        parsed = sa.make_url(text)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            foreign = foreign_sqlite_tables(parsed, allowed=_OPTUNA_TABLES)
            if foreign:
                raise _Refused(
                    f"{shown(text)!r} is neither a landau results store nor an Optuna storage: "
                    f"it holds other tables ({foreign}); give a new file, the store, or an "
                    "Optuna storage"
                )
            try:
                check_sqlite_file(parsed)
            except ValueError as exc:
                raise _Refused(str(exc)) from None
        if not create and not _has_tables(text, backend):
            return None
        storage = _open_journal(text) if backend == "sqlite" else _open_rdb(text, parsed)
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, OSError, RuntimeError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
        raise ValueError(f"cannot open Optuna storage {shown(text)!r}: {reason[0]}") from None
    _OPEN[os.getpid(), text] = storage
    return storage


def close_storage(url: str | Path) -> None:
    """Close this process's storage at ``url`` if it is open (the next ``open_storage``
    opens it afresh)."""
    storage = _OPEN.pop((os.getpid(), storage_url(url)), None)
    if isinstance(storage, StoreJournal):
        storage.close()
    elif isinstance(storage, RDBStorage):
        storage.remove_session()
        storage.engine.dispose()


class _Refused(Exception):
    pass


def _open_journal(text: str) -> StoreJournal:
    journal = StoreJournal(text)
    copy_rdb_studies(text, journal.engine, journal)  # tuned before the journal: copied once
    return journal


def _open_rdb(text: str, parsed: sa.URL) -> RDBStorage:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeat_interval
        with creation_lock(parsed):
            return RDBStorage(
                text,
                engine_kwargs={"connect_args": connect_args(parsed)},
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=retry_stale,
            )


def _has_tables(url: str, backend: str) -> bool:
    if backend == "sqlite" and not Path(sa.make_url(url).database or "").is_file():
        return False
    engine = sa.create_engine(url)
    try:
        return bool({JOURNAL_TABLE, "studies"} & set(sa.inspect(engine).get_table_names()))
    finally:
        engine.dispose()


def supports_write_behind(storage: BaseStorage) -> bool:
    """The journal of a SQLite file: a finished trial is one cheap log."""
    return isinstance(storage, StoreJournal)


def study_trials(storage: BaseStorage, name: str) -> tuple[int, list[FrozenTrial]]:
    """The id of study ``name`` and its trials (KeyError when there is no such study)."""
    study_id = storage.get_study_id_from_name(name)
    return study_id, storage.get_all_trials(study_id, deepcopy=False)


def create_study(
    storage: BaseStorage, name: str, user_attrs: dict, enqueued: FrozenTrial | None
) -> bool:
    """Create the maximising study ``name`` with its user attrs and, if given, one enqueued
    (WAITING) trial; False when it exists (another process was first)."""
    try:
        study_id = storage.create_new_study([StudyDirection.MAXIMIZE], name)
    except DuplicatedStudyError:
        return False
    for key, value in user_attrs.items():
        storage.set_study_user_attr(study_id, key, value)
    if enqueued is not None:
        storage.create_new_trial(study_id, template_trial=enqueued)
    return True


def _claim(storage: BaseStorage, trial_id: int) -> bool:
    """WAITING -> RUNNING (the enqueued trial is ours), False when another process was first."""
    try:
        claimed = storage.set_trial_state_values(trial_id, TrialState.RUNNING)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    if claimed:
        beat(storage, trial_id)
    return claimed


def _fill(storage: BaseStorage, trial_id: int, trial: FrozenTrial, stored: FrozenTrial) -> None:
    """Write the finished in-memory ``trial`` into the RUNNING trial ``trial_id`` it ran for
    (``stored``, as claimed: its attrs are written only where they changed)."""
    for name, value in trial.params.items():
        dist = trial.distributions[name]
        storage.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)
    for step, value in trial.intermediate_values.items():
        storage.set_trial_intermediate_value(trial_id, step, value)
    for key, value in trial.user_attrs.items():
        if stored.user_attrs.get(key, _ABSENT) != value:
            storage.set_trial_user_attr(trial_id, key, value)
    for key, value in trial.system_attrs.items():
        if stored.system_attrs.get(key, _ABSENT) != value:
            storage.set_trial_system_attr(trial_id, key, value)
    storage.set_trial_state_values(trial_id, trial.state, trial.values)


_ABSENT = object()


class _Interrupted(BaseException):
    """Ctrl-C or SIGTERM (a KeyboardInterrupt) in a write-behind trial, carried past Optuna's
    handler (which catches KeyboardInterrupt to record the trial as FAIL and log it with its
    traceback): the interruption ends the command with one line."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__()
        self.interrupt = interrupt


def _interruptible(objective: Callable) -> Callable:
    def run(trial: optuna.Trial):
        try:
            return objective(trial)
        except KeyboardInterrupt as exc:
            raise _Interrupted(exc) from None

    return run


def run_study(
    storage: BaseStorage,
    study_id: int,
    stored: list[FrozenTrial],
    objective: Callable,
    n_trials: int,
    *,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    callbacks: list,
    write_behind: bool,
    limit: int | None = None,
    population: int = 1,
) -> list[FrozenTrial]:
    """Run ``n_trials`` trials of ``objective`` (an exception fails its trial only) on the study
    whose trials were ``stored`` (stale trials already failed and enqueued again); return its
    finished trials, numbered as in ``storage``.

    Write-behind: on an in-memory study seeded with the stored finished trials and the enqueued
    ones this process claims, each finished trial written as it ends (new trials of other
    processes are not seen). Otherwise on the storage, step by step, each trial claimed while
    the study counts fewer than ``limit`` trials (``studies.tuning.direct``). ``population`` > 1:
    trials asked that many at a time and trained together (``objective.many``; its trials
    written one by one as they are told)."""
    if not write_behind:
        name = storage.get_study_name_from_id(study_id)
        options = {"sampler": sampler, "pruner": pruner, "callbacks": callbacks}
        return run_direct(storage, name, objective, n_trials, limit, population, **options)
    done = [t for t in stored if t.state in FINISHED]
    if n_trials == 0:
        return done
    memory = optuna.create_study(
        storage=InMemoryStorage(),
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        # the stored study's name: Hyperband assigns a trial's bracket from a hash of the study
        # name and the trial number, so an in-memory copy must not take a random name
        study_name=storage.get_study_name_from_id(study_id),
    )
    memory.add_trials(done)  # in-memory numbers 0..len(done)-1
    claimed = {}  # in-memory number -> trial id in storage
    as_claimed = {}  # trial id -> the stored trial claimed
    for trial in stored:
        if len(claimed) < n_trials and trial.state == TrialState.WAITING:
            if _claim(storage, trial._trial_id):  # else another process took it
                claimed[len(done) + len(claimed)] = trial._trial_id
                as_claimed[trial._trial_id] = trial
                attrs = {"user_attrs": trial.user_attrs, "system_attrs": trial.system_attrs}
                memory.add_trial(create_trial(state=TrialState.WAITING, **attrs))
    heartbeat = Heartbeat(storage, HEARTBEAT_S)
    heartbeat.start(claimed.values())
    written = []

    def write(_study, trial: FrozenTrial) -> None:
        trial_id = claimed.pop(trial.number, None)
        if trial_id is None:
            trial_id = storage.create_new_trial(study_id, template_trial=trial)
        else:
            heartbeat.ids.discard(trial_id)
            try:
                _fill(storage, trial_id, trial, as_claimed[trial_id])
            except optuna.exceptions.UpdateFinishedTrialError:  # failed as stale meanwhile
                trial_id = storage.create_new_trial(study_id, template_trial=trial)
        trial.number = storage.get_trial_number_from_id(trial_id)
        written.append(trial)

    try:
        if population > 1:
            _optimize_populations(memory, objective, n_trials, population, [write, *callbacks])
        else:
            memory.optimize(
                _interruptible(objective),
                n_trials,
                catch=(Exception,),
                callbacks=[write, *callbacks],
            )
    except _Interrupted as stop:  # the in-memory trial is dropped; claimed ones released below
        raise stop.interrupt from None
    finally:
        heartbeat.stop()
        for trial_id in claimed.values():  # claimed, but interrupted before they ran
            try:
                storage.set_trial_state_values(trial_id, TrialState.WAITING)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass
    return done + written


def _optimize_populations(
    study: optuna.Study, objective, n_trials: int, population: int, callbacks: list
) -> None:
    """``n_trials`` trials, asked ``population`` at a time (enqueued ones first) and trained
    together; each told and passed to ``callbacks`` in the order asked."""
    left = n_trials
    while left > 0:
        trials = [study.ask() for _ in range(min(population, left))]
        for trial, outcome in zip(trials, objective.many(trials), strict=True):
            tell(study, trial, outcome)
            frozen = study._storage.get_trial(trial._trial_id)
            for callback in callbacks:
                callback(study, frozen)
        left -= len(trials)
