"""Running a study on its storage directly (a server database: processes sharing a study see
each other's trials as they run), one budget slot at a time.

A tuner with a budget ("``limit`` trials") claims each trial under a per-study lock: it fails
the trials of dead processes (``fail_stale``: they are enqueued again), counts what the budget
counts (finished, less stale, plus running: ``counted``) and, below the limit, asks the trial
(``Study.ask``: the next enqueued one, else a new one, RUNNING from then on) before it lets
the next tuner count. Two tuners started together, or a resume while a killed tuner's trial
is not stale yet, therefore end with exactly ``limit`` trials.

The lock is a PostgreSQL transaction-level advisory lock keyed by the study's name, taken on a
connection of Optuna's engine (``RDBStorage.engine``); other databases count without one.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import optuna
import sqlalchemy as sa
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from studies.tuning.liveness import (
    FINISHED,
    HEARTBEAT_S,
    Heartbeat,
    beat,
    counted,
    fail_stale,
    retry_stale,
)

__all__ = ["give_back", "run_direct", "slot_lock", "tell"]


@contextmanager
def slot_lock(storage: BaseStorage, name: str) -> Iterator[None]:
    """Held by one process at a time per study ``name`` (PostgreSQL); elsewhere nothing."""
    engine = storage.engine if isinstance(storage, RDBStorage) else None
    if engine is None or engine.dialect.name != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn, conn.begin():  # released at the transaction's end
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        yield


def give_back(storage: BaseStorage, study: optuna.Study, trial_id: int) -> None:
    """A trial an interruption ended: failed and enqueued again (``retry_of``), so it counts
    against no budget and an enqueued preset runs next time."""
    try:
        failed = storage.set_trial_state_values(trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:  # failed as stale meanwhile
        return
    if failed:
        retry_stale(study, storage.get_trial(trial_id))


def _claim(storage: BaseStorage, study: optuna.Study, limit: int | None) -> optuna.Trial | None:
    """The next trial, RUNNING; None when the study has its ``limit``."""
    with slot_lock(storage, study.study_name):
        fail_stale(storage, study.study_name)
        if limit is not None and counted(study.get_trials(deepcopy=False)) >= limit:
            return None
        with warnings.catch_warnings():  # ask/tell with Optuna's heartbeat: ours runs it
            warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
            return study.ask()


def _run_one(storage: BaseStorage, study: optuna.Study, trial: optuna.Trial, objective) -> None:
    beat(storage, trial._trial_id)  # at once: a trial without a heartbeat is never stale
    heartbeat = Heartbeat(storage, HEARTBEAT_S)
    heartbeat.start([trial._trial_id])
    value, state = None, TrialState.COMPLETE
    try:
        value = objective(trial)
    except optuna.TrialPruned:
        state = TrialState.PRUNED
    except Exception:  # a failing trial is FAIL; the study goes on (Optuna's catch)
        state = TrialState.FAIL
    except KeyboardInterrupt:  # not a result: the trial goes back, the command ends
        heartbeat.stop()
        give_back(storage, study, trial._trial_id)
        raise
    finally:
        heartbeat.stop()
    if state == TrialState.COMPLETE:
        study.tell(trial, value, skip_if_finished=True)  # NaN or None: FAIL, with Optuna's note
    else:
        study.tell(trial, state=state, skip_if_finished=True)


def run_direct(
    storage: BaseStorage,
    name: str,
    objective: Callable,
    n_trials: int,
    limit: int | None,
    population: int = 1,
    *,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    callbacks: list,
) -> list[FrozenTrial]:
    """Up to ``n_trials`` trials of ``objective`` on study ``name``, each claimed while the
    study holds fewer than ``limit`` counted trials (None: no limit), ``population`` claimed at
    a time and trained together (``objective.many``); the study's finished trials."""
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    left = n_trials
    while left > 0:
        trials = []
        try:
            for _ in range(min(population, left)):
                trial = _claim(storage, study, limit)
                if trial is None:
                    break
                beat(storage, trial._trial_id)  # at once: a RUNNING trial can go stale
                trials.append(trial)
        except BaseException:  # interrupted while claiming: the claimed ones go back
            for trial in trials:
                give_back(storage, study, trial._trial_id)
            raise
        if not trials:
            break
        if population > 1:
            _run_many(storage, study, trials, objective)
        else:
            _run_one(storage, study, trials[0], objective)
        for trial in trials:
            frozen = storage.get_trial(trial._trial_id)
            for callback in callbacks:
                callback(study, frozen)
        left -= len(trials)
    return study.get_trials(deepcopy=False, states=FINISHED)


def _run_many(storage: BaseStorage, study: optuna.Study, trials: list, objective) -> None:
    ids = [t._trial_id for t in trials]
    for trial_id in ids:
        beat(storage, trial_id)
    heartbeat = Heartbeat(storage, HEARTBEAT_S)
    heartbeat.start(ids)
    try:
        outcomes = objective.many(trials)
    except KeyboardInterrupt:  # not results: every trial goes back, the command ends
        heartbeat.stop()
        for trial_id in ids:
            give_back(storage, study, trial_id)
        raise
    except Exception:  # a failing objective fails its trials (Optuna's catch); the study goes on
        outcomes = [(TrialState.FAIL, None)] * len(trials)
    finally:
        heartbeat.stop()
    for trial, outcome in zip(trials, outcomes, strict=True):
        tell(study, trial, outcome)


def tell(study: optuna.Study, trial: optuna.Trial, outcome: tuple) -> None:
    """Tell ``study`` the ``outcome`` of ``trial`` (a NaN value: FAIL, with Optuna's note)."""
    state, value = outcome
    if state == TrialState.COMPLETE:
        study.tell(trial, value, skip_if_finished=True)
    else:
        study.tell(trial, state=state, skip_if_finished=True)
