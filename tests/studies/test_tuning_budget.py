"""A study's budget (``--trials N``) holds exactly on a server database: two tuners started
together, and a resume while a killed tuner's preset is not stale yet (PostgreSQL, direct
mode: each trial claimed under a per-study lock). Training is faked (a short sleep)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import optuna
import pytest
import sqlalchemy as sa

import studies.tuning.study as tuning
from studies.experiment.grid import TuningBudget
from studies.tuning.keys import StudyKey, study_name
from studies.tuning.liveness import stale_numbers
from studies.tuning.storage import open_storage
from studies.tuning.study import prepare_studies, tune_study

pytestmark = pytest.mark.postgres
FULL = StudyKey("full", "moons", 1)


def _fake_fit(seconds: float):
    def fit(config, data=None, *, on_epoch=None, **_):
        time.sleep(seconds)
        on_epoch(1, 0.5)
        return type("R", (), {"status": "ok", "val_accuracy": 0.5, "epochs_run": 1})

    return fit


def _fresh_database(postgres_url: str, name: str) -> str:
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def _counted(url: str, budget: TuningBudget) -> list[str]:
    storage = open_storage(url)
    trials = storage.get_all_trials(storage.get_study_id_from_name(study_name(FULL, budget)))
    stale = stale_numbers(trials)
    return [t.state.name for t in trials if t.number not in stale and t.state.name != "WAITING"]


def _tune(url: str, budget: TuningBudget) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuning.fit = _fake_fit(0.3)
    return tune_study(FULL, budget, url, budget.trials, top_up=True).ran


@pytest.mark.slow  # 5 rounds of two processes: ~20 s
def test_two_tuners_started_together_end_with_the_budget_in_5_of_5_rounds(postgres_url):
    url = _fresh_database(postgres_url, f"budget_{os.getpid()}")
    exact = 0
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for round_ in range(5):
            budget = TuningBudget(trials=4, epochs=round_ + 1, seed=0)  # a study per round
            prepare_studies([FULL], budget, open_storage(url))
            ran = pool.starmap(_tune, [(url, budget)] * 2)
            counted = _counted(url, budget)
            exact += counted == ["COMPLETE"] * 4 and sum(ran) == 4
    assert exact == 5


def _die_in_the_preset(url: str, budget: TuningBudget) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def fit(config, data=None, *, on_epoch=None, **_):
        on_epoch(1, 0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    tuning.fit = fit
    tune_study(FULL, budget, url, budget.trials, top_up=True)


@pytest.mark.slow  # a tuner killed in a spawned process: 20-50 s on 2 loaded cores
def test_a_resume_right_after_a_kill_in_the_preset_ends_with_the_budget(postgres_url, monkeypatch):
    monkeypatch.setattr("studies.tuning.storage.GRACE_S", 2)  # stale 2 s after its heartbeat
    url = _fresh_database(postgres_url, f"resume_{os.getpid()}")
    budget = TuningBudget(trials=3, epochs=1, seed=0)
    prepare_studies([FULL], budget, open_storage(url))
    process = multiprocessing.get_context("spawn").Process(
        target=_die_in_the_preset, args=(url, budget)
    )
    process.start()
    process.join(120)
    assert process.exitcode == -signal.SIGKILL
    monkeypatch.setattr(tuning, "fit", _fake_fit(1.5))  # the preset goes stale meanwhile
    tune_study(FULL, budget, url, budget.trials, top_up=True)  # at once: not stale yet
    assert _counted(url, budget) == ["COMPLETE"] * 3
    storage = open_storage(url)
    trials = storage.get_all_trials(storage.get_study_id_from_name(study_name(FULL, budget)))
    presets = [t for t in trials if t.user_attrs.get("source") == "preset:blog"]
    assert [t.state.name for t in presets] == ["FAIL", "COMPLETE"]  # killed, then run once
