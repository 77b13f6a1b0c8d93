"""studies.tuning.rows against RDBStorage, the trusted implementation: every row written or
read here must be what RDBStorage writes or reads (datetimes checked away from UTC)."""

from __future__ import annotations

import copy
import math
import time
from datetime import datetime, timedelta

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from studies.tuning import rows
from studies.tuning.storage import open_storage, storage_url

DISTRIBUTIONS = {
    "lr": FloatDistribution(1e-4, 0.1, log=True),
    "width": IntDistribution(2, 64, log=True),
    "alpha": FloatDistribution(-1.0, 1.0),
    "act": CategoricalDistribution(["tanh", "relu", None]),
}
PARAMS = {"lr": 3e-3, "width": 16, "alpha": -0.25, "act": None}
START = datetime(2024, 3, 31, 1, 30, 5, 123456)  # naive local time, as Optuna keeps it


def _trial(state, **kwargs):
    trial = create_trial(state=state, **kwargs)
    trial.datetime_start, trial.datetime_complete = START, START + timedelta(seconds=2.5)
    return trial


TRIALS = {
    "complete": _trial(
        TrialState.COMPLETE,
        value=0.875,
        params=PARAMS,
        distributions=DISTRIBUTIONS,
        intermediate_values={1: 0.5, 2: math.inf, 3: 0.875},
        user_attrs={"source": "sampler", "nested": {"a": [1, 2.5, None]}},
        system_attrs={"fixed_params": {"lr": 3e-3}},
    ),
    "pruned": _trial(
        TrialState.PRUNED,
        value=0.5,
        params=PARAMS,
        distributions=DISTRIBUTIONS,
        intermediate_values={1: 0.25, 2: 0.5},
    ),
    "pruned_nan": _trial(
        TrialState.PRUNED,
        params=PARAMS,
        distributions=DISTRIBUTIONS,
        intermediate_values={1: 0.5, 2: math.nan},
    ),
    "failed": _trial(TrialState.FAIL, user_attrs={"source": "sampler"}),
    "complete_inf": _trial(TrialState.COMPLETE, value=-math.inf),
}


@pytest.fixture
def url(tmp_path) -> str:
    return storage_url(tmp_path / "studies.db")


def _study(storage, name: str) -> int:
    return storage.create_new_study([StudyDirection.MAXIMIZE], name)


def _fields(trial) -> dict:
    return {
        "number": trial.number,
        "state": trial.state,
        "values": trial.values,
        "params": trial.params,
        "distributions": trial.distributions,
        "user_attrs": trial.user_attrs,
        "system_attrs": trial.system_attrs,
        "intermediate": [(k, repr(v)) for k, v in trial.intermediate_values.items()],
        "datetimes": (trial.datetime_start, trial.datetime_complete),
    }


# ---- the writes against RDBStorage's ------------------------------------------------------


@pytest.fixture(autouse=True)
def away_from_utc(monkeypatch):
    """Local time 5 h behind UTC (RDBStorage stores naive UTC)."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_write_trial_stores_what_rdbstorage_stores(url):
    storage = open_storage(url)
    assert rows.supported(storage)
    ours, theirs = _study(storage, "ours"), _study(storage, "theirs")
    for trial in TRIALS.values():
        number = rows.write_trial(storage, ours, trial)
        assert number == storage.get_trial_number_from_id(storage.create_new_trial(theirs, trial))
    got = [_fields(t) for t in storage.get_all_trials(ours)]
    expected = [_fields(t) for t in storage.get_all_trials(theirs)]
    assert got == expected and [g["number"] for g in got] == list(range(len(TRIALS)))


def test_numbers_count_every_trial_of_the_study_only(url):
    storage = open_storage(url)
    a, b = _study(storage, "a"), _study(storage, "b")
    storage.create_new_trial(a)  # a running trial counts, as in RDBStorage
    assert [rows.write_trial(storage, s, TRIALS["failed"]) for s in (a, b, a, b)] == [1, 0, 2, 1]


def test_write_trial_fills_a_claimed_enqueued_trial(url):
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"lr": 3e-3}, user_attrs={"source": "preset:blog"})
    study.enqueue_trial({"lr": 1e-2})
    stored = storage.get_all_trials(study._study_id)
    claimed = stored[0]
    assert rows.claim(storage, claimed._trial_id) and not rows.claim(storage, claimed._trial_id)
    finished = copy.deepcopy(TRIALS["complete"])
    finished.user_attrs["source"] = "preset:blog"
    assert rows.write_trial(storage, study._study_id, finished, claimed._trial_id) == 0
    first, second = storage.get_all_trials(study._study_id)
    assert _fields(first) == {**_fields(finished), "number": 0}
    assert second.state == TrialState.WAITING  # untouched


def test_a_lost_claim_writes_a_new_trial(url):
    storage = open_storage(url)
    study_id = _study(storage, "s")
    lost = storage.create_new_trial(study_id)
    storage.set_trial_state_values(lost, TrialState.FAIL)  # e.g. failed as stale meanwhile
    assert rows.write_trial(storage, study_id, TRIALS["pruned"], lost) == 1
    states = [t.state for t in storage.get_all_trials(study_id)]
    assert states == [TrialState.FAIL, TrialState.PRUNED]


def test_create_study_stores_what_optunas_calls_store(url):
    storage = open_storage(url)
    attrs = {"variant": "full", "depth": 2, "space": '[{"name": "lr"}]'}
    waiting = create_trial(state=TrialState.WAITING, system_attrs={"fixed_params": {"lr": 0.1}})
    assert rows.create_study(storage, "ours", attrs, waiting) is True
    assert rows.create_study(storage, "ours", {}, None) is False  # exists: left as it is
    theirs = optuna.create_study(storage=storage, study_name="theirs", direction="maximize")
    for k, v in attrs.items():
        theirs.set_user_attr(k, v)
    theirs.enqueue_trial({"lr": 0.1})
    ours = optuna.load_study(study_name="ours", storage=storage)
    assert (ours.user_attrs, ours.directions) == (theirs.user_attrs, theirs.directions)
    assert [_fields(t) for t in ours.trials] == [_fields(t) for t in theirs.trials]
    assert rows.study_id(storage, "ours") == ours._study_id
    with pytest.raises(KeyError):
        rows.study_id(storage, "nosuch")


def test_read_trials_reads_what_rdbstorage_reads(url):
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"lr": 3e-3}, user_attrs={"source": "preset:blog"})
    for trial in TRIALS.values():
        storage.create_new_trial(study._study_id, trial)
    storage.create_new_trial(study._study_id)  # running
    storage.create_new_trial(_study(storage, "other"), TRIALS["complete"])
    ours = rows.read_trials(storage, study._study_id)
    theirs = storage.get_all_trials(study._study_id)
    assert [(_fields(t), t._trial_id) for t in ours] == [(_fields(t), t._trial_id) for t in theirs]
    assert len(ours) == len(TRIALS) + 2


def test_claim_and_release_do_what_rdbstorage_does(url):
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"lr": 3e-3})
    (waiting,) = storage.get_all_trials(study._study_id)
    assert rows.claim(storage, waiting._trial_id) is True
    running = storage.get_trial(waiting._trial_id)
    assert running.state == TrialState.RUNNING and running.datetime_start is not None
    assert not rows.claim(storage, waiting._trial_id)  # taken
    rows.release(storage, waiting._trial_id)
    assert storage.get_trial(waiting._trial_id).state == TrialState.WAITING
    assert storage.set_trial_state_values(waiting._trial_id, TrialState.RUNNING)  # Optuna agrees
