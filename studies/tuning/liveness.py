"""Trials of dead processes: heartbeats, failing stale trials and enqueuing them again, and
what a study's budget counts.

Every trial RUNNING in the storage (an enqueued trial a process claimed; in direct mode any
trial) has a heartbeat every ``HEARTBEAT_S``: on RDBStorage Optuna's own, on the journal the
system attr ``heartbeat`` (a Unix time). Before a study runs, its RUNNING trials whose heartbeat
(or, lacking one, start) is older than ``GRACE_S`` are failed and enqueued again (``retry_stale``:
the same fixed parameters and source, system attr ``retry_of``), so the blog preset of a killed
tuner is evaluated exactly once and a budget counts the trials that ran to an end.
"""

from __future__ import annotations

import threading
import time
import warnings

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState, create_trial

__all__ = [
    "FINISHED",
    "GRACE_S",
    "HEARTBEAT_S",
    "Heartbeat",
    "beat",
    "counted",
    "fail_stale",
    "retry_stale",
    "stale_numbers",
]

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
HEARTBEAT_S = 5  # a RUNNING trial's heartbeat: every 5 s ...
GRACE_S = 20  # ... and stale (its process dead) 20 s after the last one


def stale_numbers(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of the trials failed as stale (their process died) and enqueued again."""
    return {t.system_attrs["retry_of"] for t in trials if "retry_of" in t.system_attrs}


def counted(trials: list[FrozenTrial]) -> int:
    """Trials a budget counts: finished, less those failed as stale, plus those running (in
    another process, or in a dead one whose heartbeat is not stale yet)."""
    stale = stale_numbers(trials)
    done = sum(t.state in FINISHED and t.number not in stale for t in trials)
    return done + sum(t.state == TrialState.RUNNING for t in trials)


def retry_stale(study: optuna.Study, failed: FrozenTrial) -> None:
    """Heartbeat-stale callback: enqueue the failed trial again, with its fixed parameters (the
    preset) and source; a sampled trial is sampled afresh."""
    system = {"retry_of": failed.number}
    if "fixed_params" in failed.system_attrs:
        system["fixed_params"] = failed.system_attrs["fixed_params"]
    study.add_trial(
        create_trial(state=TrialState.WAITING, system_attrs=system, user_attrs=failed.user_attrs)
    )


def fail_stale(storage: BaseStorage, name: str) -> None:
    """Fail (and enqueue again) the RUNNING trials of study ``name`` whose process is dead: no
    heartbeat for ``GRACE_S`` seconds (the journal: nor a start, for a trial that has none)."""
    study = optuna.load_study(study_name=name, storage=storage)
    if isinstance(storage, RDBStorage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        return
    now = time.time()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        start = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
        if now - trial.system_attrs.get("heartbeat", start) <= GRACE_S:
            continue
        try:
            failed = storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:  # another process was first
            continue
        if failed:
            retry_stale(study, storage.get_trial(trial._trial_id))


def beat(storage: BaseStorage, trial_id: int) -> None:
    if isinstance(storage, RDBStorage):
        storage.record_heartbeat(trial_id)
    else:
        storage.set_trial_system_attr(trial_id, "heartbeat", time.time())


class Heartbeat:
    """Records the heartbeat of the enqueued trials this process claimed, every HEARTBEAT_S,
    until each is written or released (what Optuna's optimize does for its running trial)."""

    def __init__(self, storage: BaseStorage, interval: float) -> None:
        self.storage, self.interval, self.ids = storage, interval, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self, trial_ids) -> None:
        self.ids = set(trial_ids)
        if self.ids:
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for trial_id in list(self.ids):
                try:
                    beat(self.storage, trial_id)
                except optuna.exceptions.UpdateFinishedTrialError:  # written meanwhile
                    self.ids.discard(trial_id)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
