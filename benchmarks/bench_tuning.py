"""Optuna's overhead in tuning: sampler + storage time as a share of the tuning wall time.

Tuned in one process against a SQLite results store, as ``landau tune``/``landau run`` do.
Overhead (``TuningSummary``) is checking and creating the studies plus, per study, its wall
time minus the time spent training (data loading is neither); the sampler's part of it is
timed by wrapping TPESampler's sampling methods, the rest is storage (opening it, reading and
writing trials, the in-memory study's bookkeeping, report/should_prune).

* ``quick grid`` (marked slow: minutes): the whole quick grid's tuning (55 studies x 6 trials x
  8 epochs), the budget the requirement (<= 2%) is about.
* ``slice``: 6 of its studies on the two cheapest datasets (moons, digits; trials of ~0.2 s), in
  both modes, write-behind (the default on SQLite) and direct (Optuna's calls on the storage, as
  before write-behind); the fixed costs (opening the storage: ~0.3 s) weigh far more here.
"""

from __future__ import annotations

import functools
import time

import optuna
import pytest

from studies.experiment.grid_file import load_grid
from studies.store.store import Store
from studies.tuning.keys import StudyKey, grid_keys
from studies.tuning.storage import storage_url
from studies.tuning.workers import tune_studies

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


def _measure(benchmark, tmp_path, sampler_clock, keys, write_behind: bool) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = load_grid("quick").tuning
    path = tmp_path / "results.db"
    Store(path).close()  # the default: Optuna's tables beside the landau tables
    rounds: list = []

    def tune_once():
        sampler_clock[0] = 0.0
        summary = tune_studies(keys, budget, storage_url(path), workers=1, progress=False)
        rounds.append((summary, sampler_clock[0]))

    benchmark.pedantic(tune_once, rounds=1, iterations=1, warmup_rounds=0)
    summary, sampler = rounds[-1]
    studies_wall = sum(r.wall_seconds for r in summary.results)
    studies_overhead = sum(r.overhead_seconds for r in summary.results)
    wall, overhead = (
        studies_wall + summary.prepare_seconds,
        studies_overhead + summary.prepare_seconds,
    )
    benchmark.extra_info.update(
        mode="write-behind" if write_behind else "direct",
        studies=len(summary.results),
        trials=sum(r.ran for r in summary.results),
        trials_per_study=budget.trials,
        epochs_per_trial=budget.epochs,
        wall_s=round(wall, 2),
        train_s=round(wall - overhead, 2),
        overhead_s=round(overhead, 3),
        overhead_share=round(summary.overhead_share(), 4),
        prepare_s=round(summary.prepare_seconds, 3),
        studies_overhead_share=round(studies_overhead / studies_wall, 4),
        sampler_s=round(sampler, 3),
        storage_and_other_s=round(overhead - sampler, 3),
    )
    print(
        f"\n{benchmark.extra_info['mode']}, {len(summary.results)} studies, "
        f"{benchmark.extra_info['trials']} trials: Optuna overhead {overhead:.2f} s of "
        f"{wall:.1f} s tuning wall time = {summary.overhead_share():.1%} (sampler {sampler:.2f} s, "
        f"storage and the rest {overhead - sampler:.2f} s, of which checking and creating the "
        f"studies {summary.prepare_seconds:.2f} s; the studies alone "
        f"{studies_overhead / studies_wall:.1%})"
    )


@pytest.mark.slow
@pytest.mark.benchmark(group="tuning-overhead")
def test_optuna_overhead_share_quick_grid(benchmark, tmp_path, sampler_clock, intra_op_threads):
    keys = grid_keys(load_grid("quick"))
    _measure(benchmark, tmp_path, sampler_clock, keys, write_behind=True)


@pytest.mark.benchmark(group="tuning-overhead")
@pytest.mark.parametrize("write_behind", [True, False], ids=["write-behind", "direct"])
def test_optuna_overhead_share_slice(
    benchmark, tmp_path, sampler_clock, intra_op_threads, monkeypatch, write_behind
):
    if not write_behind:  # Optuna's calls on the storage, the studies created with them too
        for module in ("studies.tuning.study", "studies.tuning.storage"):
            monkeypatch.setattr(f"{module}.supports_write_behind", lambda storage: False)
    _measure(benchmark, tmp_path, sampler_clock, SLICE, write_behind)
