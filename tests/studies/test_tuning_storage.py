"""studies.tuning.storage: the SQLite connection, and write-behind tuning against an
interruption, a kill -9 and a resumption. Training is faked only where the test needs it (an
interruption, a kill in flight, chosen values for the pruner); resumptions train for real."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time

import optuna
import pytest
from optuna.trial import TrialState

import studies.tuning.study as tuning
from studies.experiment.grid import TuningBudget
from studies.tuning.keys import StudyKey, study_name
from studies.tuning.liveness import stale_numbers
from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import prepare_studies, tune_study

BUDGET = TuningBudget(trials=2, epochs=2, seed=0)
FULL = StudyKey("full", "moons", 2)


@pytest.fixture
def url(tmp_path) -> str:
    return storage_url(tmp_path / "studies.db")


# ---- the connection -----------------------------------------------------------------------


def test_storage_is_opened_once_per_process_in_wal_mode(tmp_path):
    path = tmp_path / "s.db"
    storage = open_storage(path)
    assert open_storage(storage_url(path)) is storage
    assert isinstance(storage, optuna.storages.JournalStorage)  # Optuna's journal, in a table
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma journal_mode").fetchone() == ("wal",)
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL


def test_a_file_tuned_with_optunas_rdb_tables_is_copied_into_the_journal(tmp_path):
    path = tmp_path / "old.db"
    old = optuna.create_study(storage=storage_url(path), study_name="s", direction="maximize")
    old.set_user_attr("space", "x")
    old.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
    old.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING))  # stuck before 11
    storage = open_storage(path)
    (study,) = storage.get_all_studies()
    assert study.study_name == "s" and study.user_attrs == {"space": "x"}
    trials = storage.get_all_trials(storage.get_study_id_from_name("s"))
    assert [(t.number, t.state, t.value) for t in trials] == [
        (0, TrialState.COMPLETE, 0.5),
        (1, TrialState.RUNNING, None),
    ]


# ---- write-behind: resume after an interruption or a kill -9 ------------------------------


def _fake_train(values):
    def fake(config, data=None, *, on_epoch=None, **_):
        for epoch, v in enumerate(values, 1):
            on_epoch(epoch, v)
        return type("R", (), {"status": "ok", "val_accuracy": values[-1], "epochs_run": 2})

    return fake


def _stored(url, key=FULL):
    storage = open_storage(url)
    return storage.get_all_trials(storage.get_study_id_from_name(study_name(key, BUDGET)))


def test_an_interrupted_preset_goes_back_to_waiting_and_runs_next_time(url, monkeypatch):
    prepare_studies([FULL], BUDGET, open_storage(url))

    def interrupted(config, data=None, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(tuning, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tune_study(FULL, BUDGET, url, 2)
    (preset,) = _stored(url)
    assert preset.state == TrialState.WAITING
    monkeypatch.undo()  # real training from here on
    tune_study(FULL, BUDGET, url, 2)
    trials = _stored(url)
    assert [t.user_attrs["source"] for t in trials] == ["preset:blog", "sampler"]
    assert trials[0].state == TrialState.COMPLETE and trials[1].state.is_finished()


def test_stored_trials_seed_the_pruner(url, monkeypatch):
    """The in-memory copy holds the stored trials: the median of earlier runs prunes."""
    budget = TuningBudget(trials=3, epochs=4, seed=0)  # pruning from epoch 1, after 1 trial
    prepare_studies([FULL], budget, open_storage(url))
    monkeypatch.setattr(tuning, "fit", _fake_train([0.9] * 4))
    tune_study(FULL, budget, url, 2)
    monkeypatch.setattr(tuning, "fit", _fake_train([0.1] * 4))
    result = tune_study(FULL, budget, url, 1)
    assert result.states == {"COMPLETE": 2, "PRUNED": 1}
    storage = open_storage(url)
    last = storage.get_all_trials(storage.get_study_id_from_name(study_name(FULL, budget)))[-1]
    assert last.state == TrialState.PRUNED and last.number == 2


def _tune_and_die(url: str) -> None:
    """Three trials; the process is killed in the third one's training."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    calls = []

    def fit(config, data=None, *, on_epoch=None, **_):
        calls.append(config)
        on_epoch(1, 0.5)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        on_epoch(2, 0.6)
        return type("R", (), {"status": "ok", "val_accuracy": 0.6, "epochs_run": 2})

    tuning.fit = fit
    tune_study(FULL, BUDGET, url, 3)


@pytest.mark.slow
def test_kill_9_loses_only_the_trial_in_flight(url):
    prepare_studies([FULL], BUDGET, open_storage(url))
    process = multiprocessing.get_context("spawn").Process(target=_tune_and_die, args=(url,))
    process.start()
    process.join(120)
    assert process.exitcode == -signal.SIGKILL
    trials = _stored(url)
    assert [(t.number, t.state.name) for t in trials] == [(0, "COMPLETE"), (1, "COMPLETE")]
    assert trials[0].user_attrs["source"] == "preset:blog"
    assert trials[1].intermediate_values == {1: 0.5, 2: 0.6}
    states = tune_study(FULL, BUDGET, url, 2).states  # resumed, with real training
    assert sum(states.values()) == 4 and set(states) <= {"COMPLETE", "PRUNED"}
    assert [t.number for t in _stored(url)] == [0, 1, 2, 3]


# ---- a tuner killed while the enqueued preset runs (trial 0), then resumed ----------------


def _die_in_the_preset(url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def fit(config, data=None, *, on_epoch=None, **_):
        on_epoch(1, 0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    tuning.fit = fit
    tune_study(FULL, BUDGET, url, BUDGET.trials, top_up=True)


@pytest.mark.slow
def test_kill_9_during_the_preset_then_resume_ends_with_the_budget_and_the_preset_once(
    url, monkeypatch
):
    prepare_studies([FULL], BUDGET, open_storage(url))
    process = multiprocessing.get_context("spawn").Process(target=_die_in_the_preset, args=(url,))
    process.start()
    process.join(120)
    assert process.exitcode == -signal.SIGKILL
    assert [t.state for t in _stored(url)] == [TrialState.RUNNING]  # the preset, stuck
    monkeypatch.setattr("studies.tuning.liveness.GRACE_S", 1)  # stale 1 s after its heartbeat
    monkeypatch.setattr(tuning, "fit", _fake_train([0.5, 0.6]))
    time.sleep(2.5)
    for _ in range(2):  # resumed, then resumed again: tops up, never overshoots
        tune_study(FULL, BUDGET, url, BUDGET.trials, top_up=True)
    trials = _stored(url)
    counted = [t for t in trials if t.number not in stale_numbers(trials)]
    assert [t.state for t in counted] == [TrialState.COMPLETE] * BUDGET.trials
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    presets = [t for t in counted if t.user_attrs["source"] == "preset:blog"]
    assert len(presets) == 1 and presets[0].params == tuning._preset(FULL.variant)
    (dead,) = [t for t in trials if t.number in stale_numbers(trials)]
    assert dead.number == 0 and dead.state == TrialState.FAIL


def test_a_running_trial_with_a_fresh_heartbeat_counts_and_is_left_alone(url, monkeypatch):
    """Another process's trial in flight: not failed, and it counts against the budget."""
    prepare_studies([FULL], BUDGET, open_storage(url))
    storage = open_storage(url)
    (preset,) = _stored(url)
    storage.set_trial_state_values(preset._trial_id, TrialState.RUNNING)  # just started
    monkeypatch.setattr(tuning, "fit", _fake_train([0.5, 0.6]))
    assert tune_study(FULL, BUDGET, url, BUDGET.trials, top_up=True).ran == 1
    assert [t.state for t in _stored(url)] == [TrialState.RUNNING, TrialState.COMPLETE]


# ---- what the storage refuses, and PostgreSQL's table creation race -----------------------


def test_a_foreign_sqlite_file_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="neither a landau results store nor an Optuna storage"):
        open_storage(path)
    assert path.read_bytes() == before


def _open_fresh(url: str) -> str:
    open_storage(url)
    return "ok"


@pytest.mark.slow
@pytest.mark.postgres
def test_two_tuners_on_a_fresh_postgresql_database_both_open_it(postgres_url):
    import sqlalchemy as sa

    for attempt in range(3):  # the race lost 2 of 3 tries before the creation lock
        name = f"fresh_{os.getpid()}_{attempt}"
        admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            assert pool.map(_open_fresh, [url, url]) == ["ok", "ok"]
