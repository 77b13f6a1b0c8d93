"""Optuna's overhead in tuning: sampler + storage time as a share of the tuning wall time.

A slice of the quick grid (full, plain_mlp, logreg on moons and digits, the quick grid's tuning
budget: 6 trials x 8 epochs) tuned in one process against a SQLite results store, as
``landau run`` does. Overhead is wall time minus time spent training (``StudyResult``); the
sampler's share of it is timed by wrapping TPESampler's sampling methods, the rest is storage
(RDBStorage round trips, including trial.report / should_prune) and study loading.
"""

from __future__ import annotations

import functools
import time

import optuna
import pytest

from studies.cli_tuning import tune_studies
from studies.grid import load_grid
from studies.store import Store
from studies.tuning import StudyKey, storage_url

SLICE = [
    StudyKey("full", "moons", 2),
    StudyKey("full", "digits", 2),
    StudyKey("plain_mlp", "moons", 2),
    StudyKey("plain_mlp", "digits", 2),
    StudyKey("logreg", "moons", 1),
    StudyKey("logreg", "digits", 1),
]
_SAMPLING = ("infer_relative_search_space", "sample_relative", "sample_independent")


@pytest.fixture
def sampler_clock(monkeypatch):
    """Seconds spent in TPESampler's sampling methods while the fixture is active."""
    spent = [0.0]
    for name in _SAMPLING:
        original = getattr(optuna.samplers.TPESampler, name)

        @functools.wraps(original)
        def timed(self, *args, _original=original, **kwargs):
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        monkeypatch.setattr(optuna.samplers.TPESampler, name, timed)
    return spent


@pytest.mark.benchmark(group="tuning-overhead")
def test_optuna_overhead_share(benchmark, tmp_path, sampler_clock, intra_op_threads):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = load_grid("quick").tuning
    rounds: list = []

    def tune_once():
        path = tmp_path / f"r{len(rounds)}.db"
        Store(path).close()  # the default: Optuna's tables beside the landau tables
        sampler_clock[0] = 0.0
        summary = tune_studies(SLICE, budget, storage_url(path), workers=1, progress=False)
        rounds.append((summary, sampler_clock[0]))

    benchmark.pedantic(tune_once, rounds=1, iterations=1, warmup_rounds=0)
    summary, sampler = rounds[-1]
    wall = sum(r.wall_seconds for r in summary.results)
    overhead = sum(r.overhead_seconds for r in summary.results)
    benchmark.extra_info.update(
        studies=len(summary.results),
        trials=sum(r.ran for r in summary.results),
        trials_per_study=budget.trials,
        epochs_per_trial=budget.epochs,
        wall_s=round(wall, 2),
        train_s=round(wall - overhead, 2),
        overhead_s=round(overhead, 2),
        overhead_share=round(summary.overhead_share(), 4),
        sampler_s=round(sampler, 2),
        storage_and_other_s=round(overhead - sampler, 2),
    )
    print(
        f"\nOptuna overhead: {overhead:.2f} s of {wall:.2f} s tuning wall time "
        f"({summary.overhead_share():.1%}); sampler {sampler:.2f} s, storage and the rest "
        f"{overhead - sampler:.2f} s; {benchmark.extra_info['trials']} trials"
    )
