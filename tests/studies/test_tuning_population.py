"""Tuning as populations (``[tuning] population = k``): k trials asked at once and trained as one
model, each scored as it would be alone, pruned alone, the budget counted trial by trial, and a
kill -9 losing only the population in flight."""

from __future__ import annotations

import multiprocessing
import os
import signal

import optuna
import pytest
from optuna.trial import TrialState

import studies.tuning.population as population
import studies.tuning.study as tuning
from studies.data import load_dataset
from studies.experiment import RunConfig
from studies.experiment.grid import TuningBudget
from studies.experiment.grid_file import grid_from_dict
from studies.experiment.seed_batch import fit_seeds
from studies.experiment.training import fit
from studies.tuning.keys import StudyKey, study_name
from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import prepare_studies, tune_study

FULL = StudyKey("full", "moons", 2)


@pytest.fixture
def url(tmp_path) -> str:
    return storage_url(tmp_path / "studies.db")


def _trials(url, key, budget):
    storage = open_storage(url)
    return storage.get_all_trials(storage.get_study_id_from_name(study_name(key, budget)))


def test_each_trial_of_a_population_scores_what_it_scores_alone(url):
    budget = TuningBudget(trials=6, epochs=3, pruner="none", population=3)
    prepare_studies([FULL], budget, open_storage(url))
    result = tune_study(FULL, budget, url, budget.trials, top_up=True)
    assert result.states == {"COMPLETE": 6}
    data = load_dataset("moons")
    trials = _trials(url, FULL, budget)
    assert trials[0].user_attrs["source"] == "preset:blog"
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6  # constant liar: distinct
    for trial in trials:
        config = RunConfig("full", "moons", 0, 2, 3, trial.params, base_seed=budget.seed)
        alone = fit(config, data, evaluate_test=False)
        assert trial.value == alone.val_accuracy
        assert trial.intermediate_values == {e.epoch: e.val_accuracy for e in alone.epoch_records}


def _counting(monkeypatch) -> list[int]:
    """fit_seeds, recording the size of every population it trains."""
    sizes: list[int] = []
    real = population.fit_seeds

    def counted(configs, data, **kwargs):
        sizes.append(len(configs))
        return real(configs, data, **kwargs)

    monkeypatch.setattr(population, "fit_seeds", counted)
    return sizes


def test_a_population_budget_counts_trials_one_by_one_and_names_the_study(url, monkeypatch):
    budget = TuningBudget(trials=7, epochs=1, pruner="hyperband", population=3)
    name = study_name(FULL, budget)
    assert name.endswith(",pruner=hyperband,population=3]")
    assert study_name(FULL, TuningBudget(trials=7, epochs=1)) != name
    prepare_studies([FULL], budget, open_storage(url))
    sizes = _counting(monkeypatch)
    assert tune_study(FULL, budget, url, budget.trials, top_up=True).ran == 7
    assert sizes == [3, 3, 1]  # trained three, three and one at a time
    assert tune_study(FULL, budget, url, budget.trials, top_up=True).ran == 0  # has its budget
    assert [t.number for t in _trials(url, FULL, budget)] == list(range(7))


def test_direct_mode_claims_a_population_within_the_budget(url, monkeypatch):
    budget = TuningBudget(trials=5, epochs=1, population=2)
    prepare_studies([FULL], budget, open_storage(url))
    sizes = _counting(monkeypatch)
    tune_study(FULL, budget, url, budget.trials, top_up=True, write_behind=False)
    assert sizes == [2, 2, 1]
    trials = _trials(url, FULL, budget)
    assert len(trials) == 5 and all(t.state.is_finished() for t in trials)


@pytest.mark.parametrize("write_behind", [True, False], ids=["write-behind", "direct"])
def test_a_trial_whose_run_cannot_be_built_fails_alone(url, monkeypatch, write_behind):
    budget = TuningBudget(trials=3, epochs=1, pruner="none", population=3)
    prepare_studies([FULL], budget, open_storage(url))
    real, calls = tuning._Objective.configure, []

    def configure(self, trial):
        calls.append(trial.number)
        if len(calls) == 2:
            raise ValueError("no such run")
        return real(self, trial)

    monkeypatch.setattr(tuning._Objective, "configure", configure)
    tune_study(FULL, budget, url, 3, write_behind=write_behind)
    trials = _trials(url, FULL, budget)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert trials[1].user_attrs["error"] == "ValueError: no such run"


def test_a_hyperband_study_is_the_same_tuned_twice(tmp_path):
    """The in-memory copy of a study takes its stored name: Hyperband's brackets (a hash of the
    study's name and the trial's number) and so the pruning are the same in every process."""
    budget = TuningBudget(trials=6, epochs=4, pruner="hyperband", population=3)
    found = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        url = storage_url(tmp_path / folder / "studies.db")
        prepare_studies([FULL], budget, open_storage(url))
        tune_study(FULL, budget, url, budget.trials, top_up=True)
        trials = _trials(url, FULL, budget)
        found.append([(t.params, t.state, t.intermediate_values) for t in trials])
    assert found[0] == found[1]


def test_a_pruned_member_stops_alone_and_the_others_train_as_alone():
    data = load_dataset("moons")
    configs = [RunConfig("full", "moons", s, 2, 4) for s in range(3)]

    def prune_at(epoch):
        def callback(e, _value):
            if e == epoch:
                raise optuna.TrialPruned("pruned")

        return callback

    calls = []
    records = fit_seeds(
        configs,
        data,
        evaluate_test=False,
        on_epoch=[lambda e, v: calls.append(e), prune_at(2), None],
        stop_on=(optuna.TrialPruned,),
    )
    assert records[1] is None and calls == [1, 2, 3, 4]
    for config, record in zip(configs[::2], records[::2], strict=True):
        alone = fit(config, data, evaluate_test=False)
        assert record.val_accuracy == alone.val_accuracy
        assert record.final_train_loss == alone.final_train_loss
    with pytest.raises(optuna.TrialPruned):  # not in stop_on: it propagates
        fit_seeds(configs, data, evaluate_test=False, on_epoch=[prune_at(1), None, None])


def test_pruned_and_diverged_members_are_pruned_trials_and_a_failing_population_fails(
    url, monkeypatch
):
    budget = TuningBudget(trials=4, epochs=2, pruner="none", population=4)
    prepare_studies([FULL], budget, open_storage(url))

    def fake(configs, data, *, on_epoch, **_):
        out = []
        for i in range(len(configs)):
            on_epoch[i](1, 0.5)
            status = "diverged" if i == 1 else "ok"
            out.append(None if i == 2 else _Record(status, 0.25 * i))
        return out

    monkeypatch.setattr(population, "fit_seeds", fake)
    tune_study(FULL, budget, url, 4)
    states = [t.state for t in _trials(url, FULL, budget)]
    complete, pruned = TrialState.COMPLETE, TrialState.PRUNED
    assert states == [complete, pruned, pruned, complete]

    def broken(configs, data, **_):
        raise RuntimeError("out of luck")

    monkeypatch.setattr(population, "fit_seeds", broken)
    tune_study(FULL, budget, url, 2)
    failed = _trials(url, FULL, budget)[4:]
    assert [t.state for t in failed] == [TrialState.FAIL] * 2
    assert failed[0].user_attrs["error"] == "RuntimeError: out of luck"


class _Record:
    def __init__(self, status, value):
        self.status, self.val_accuracy, self.epochs_run = status, value, 1


def _die_in_the_second_population(url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    calls = []

    def fake(configs, data, *, on_epoch, **_):
        calls.append(len(configs))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        for callback in on_epoch:
            callback(1, 0.5)
        return [_Record("ok", 0.5) for _ in configs]

    population.fit_seeds = fake
    budget = TuningBudget(trials=6, epochs=1, pruner="none", population=3)
    tune_study(FULL, budget, url, budget.trials, top_up=True)


@pytest.mark.slow  # a spawned process killed mid-study: ~10-30 s on 2 loaded cores
def test_kill_9_loses_only_the_population_in_flight_and_the_resume_ends_with_the_budget(url):
    budget = TuningBudget(trials=6, epochs=1, pruner="none", population=3)
    prepare_studies([FULL], budget, open_storage(url))
    process = multiprocessing.get_context("spawn").Process(
        target=_die_in_the_second_population, args=(url,)
    )
    process.start()
    process.join(120)
    assert process.exitcode == -signal.SIGKILL
    trials = _trials(url, FULL, budget)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3  # the first population
    assert trials[0].user_attrs["source"] == "preset:blog"
    tune_study(FULL, budget, url, budget.trials, top_up=True)  # resumed, real training
    trials = _trials(url, FULL, budget)
    assert len(trials) == 6 and all(t.state.is_finished() for t in trials)
    assert sum(t.user_attrs["source"] == "preset:blog" for t in trials) == 1


def _grid(**tuning):
    data = {"variants": ["full"], "datasets": ["moons", "iris"], "epochs": 30,
            "dataset_epochs": {"iris": 12}, "tuning": tuning}  # fmt: skip
    return grid_from_dict(data, "test.toml", default_name="test")


def test_grid_tuning_population_pruner_and_dataset_budgets():
    spec = _grid(epochs="dataset", population=8, pruner="hyperband", trials=30)
    budget = spec.tuning
    assert budget.population == 8 and budget.pruner == "hyperband"
    assert budget.for_dataset("iris").epochs == 12 and budget.for_dataset("moons").epochs == 30
    assert "epochs=12," in study_name(StudyKey("full", "iris", 1), budget)
    assert "epochs=30," in study_name(StudyKey("full", "moons", 1), budget)
    with pytest.raises(ValueError, match='must be an integer or "dataset"'):
        _grid(epochs="all")
    with pytest.raises(ValueError, match="1 <= population <= 10000"):
        _grid(population=0)
    with pytest.raises(ValueError, match="known: median, hyperband, none"):
        _grid(pruner="asha")


def test_a_replicate_tunes_its_own_studies_on_its_own_split():
    from studies.experiment.grid_file import load_grid
    from studies.tuning.study import _Objective

    main, replicate = load_grid("standard-tuned"), load_grid("standard-replicate-tuned")
    key = StudyKey("full", "moons", 1)
    assert study_name(key, main.tuning) != study_name(key, replicate.tuning)
    assert replicate.tuning.data_seed == replicate.data_seed == 2
    assert study_name(key, replicate.tuning).endswith(",seed=1,split=2]")
    objective = _Objective(key, replicate.tuning.for_dataset("moons"), "cpu", None)
    trial = optuna.trial.FixedTrial({p: 0.01 for p in ("lr", "damping", "temperature")} | {
        "alpha": 0.01, "gamma": 1.0, "dt": 0.001})  # fmt: skip
    config = objective.configure(trial)
    assert (config.data_seed, config.base_seed) == (2, 1)
    from studies.data import load_dataset as load

    assert objective.data.y_val.equal(load("moons", data_seed=2).y_val)  # the replicate's split
    assert not objective.data.y_val.equal(load("moons", data_seed=0).y_val)
