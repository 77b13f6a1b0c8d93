"""Speed of populations (issue 18), as ratios against one member measured in the same run,
interleaved (reference, subject, ...), 1 intra-op thread, thread CPU time. The whole training
loop and the work after it (validation, test split, Lanczos sharpness, Hutchinson trace, mesh)
are timed, at the blog preset of ``full``, depth 2, 3 epochs.

(a) 10 members (5 seeds x 2 data splits) ÷ 1 member, moons and digits. Goal <= 2.0x.
(b) 40 members (4 swept temperatures x 5 seeds x 2 splits) ÷ 1 member, moons. Goal <= 5x.
(c) A 24-trial study of full (moons, depth 2, 8 epochs per trial, median pruner) tuned with
    population 8 ÷ population 1, wall clock. Goal <= 0.4x.
(d) (slow: ~5 min) The standard grid's fixed protocol (every variant and the temperature sweep,
    5 seeds x 2 splits) on two embedded datasets (moons, digits) at 5 epochs, default population
    ÷ ``--population 1``, wall clock of ``landau grid`` at 2 workers. Goal <= 0.25x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from studies.data.datasets import load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.seed_batch import fit_seeds

TEMPERATURES = (0.0, 0.008, 0.08, 0.8)


def _members(dataset: str, temperatures=(None,)) -> list[RunConfig]:
    return [
        RunConfig(
            "full",
            dataset,
            seed,
            2,
            3,
            {} if t is None else {"temperature": t},
            data_seed=split,
        )
        for t in temperatures
        for split in (0, 1)
        for seed in range(5)
    ]


@pytest.mark.parametrize("dataset", ["moons", "digits"])
def test_ten_members_vs_one_member(compare_long, dataset):
    configs = _members(dataset)
    splits = {d: load_dataset(dataset, data_seed=d) for d in (0, 1)}
    compare_long(
        lambda: fit_seeds(configs, splits),
        lambda: fit_seeds(configs[:1], splits),
        rounds=3,
        warmup=1,
        target="<= 2.0x",
        reference_name="a population of 1",
    )


def test_forty_members_vs_one_member(compare_long):
    configs = _members("moons", TEMPERATURES)
    assert len(configs) == 40
    splits = {d: load_dataset("moons", data_seed=d) for d in (0, 1)}
    compare_long(
        lambda: fit_seeds(configs, splits),
        lambda: fit_seeds(configs[:1], splits),
        rounds=3,
        warmup=1,
        target="<= 5x",
        reference_name="a population of 1",
    )


def _tune(tmp_path, population: int) -> None:
    from studies.experiment.grid import TuningBudget
    from studies.tuning.keys import StudyKey
    from studies.tuning.storage import close_storage, open_storage, storage_url
    from studies.tuning.study import prepare_studies, tune_study

    path = tmp_path / f"study-{population}-{time.monotonic_ns()}.db"
    url = storage_url(path)
    budget = TuningBudget(trials=24, epochs=8, population=population)
    key = StudyKey("full", "moons", 2)
    prepare_studies([key], budget, open_storage(url))
    tune_study(key, budget, url, budget.trials, top_up=True)
    close_storage(url)
    path.unlink()


def test_a_24_trial_study_population_8_vs_1(compare_long, tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    compare_long(
        lambda: _tune(tmp_path, 8),
        lambda: _tune(tmp_path, 1),
        rounds=3,
        warmup=0,
        clock=time.perf_counter,
        target="<= 0.4x",
        reference_name="population 1 (one trial at a time)",
    )


def _grid(tmp_path, population: str | None) -> None:
    store = tmp_path / f"grid-{population}-{time.monotonic_ns()}.db"
    flags = [] if population is None else ["--population", population]
    command = [sys.executable, "-m", "studies.cli", "grid", "standard", "--datasets",
               "moons,digits", "--epochs", "5", "--workers", "2", "--no-progress",
               "--store", str(store), *flags]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    subprocess.run(command, check=True, env=env, capture_output=True)
    store.unlink()


@pytest.mark.slow
def test_standard_grid_default_population_vs_one_at_two_workers(compare_long, tmp_path):
    compare_long(
        lambda: _grid(tmp_path, None),
        lambda: _grid(tmp_path, "1"),
        rounds=1,
        clock=time.perf_counter,
        target="<= 0.25x",
        reference_name="--population 1",
        load_before=os.getloadavg()[0],
    )
