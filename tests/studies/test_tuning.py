"""Tuning: study names, budgets, the preset, the objective, storage and multi-process studies.

Tiny budgets (2-3 trials x 2 epochs on moons, ~0.1 s a trial) with real training. A fake
``fit`` (patched into ``studies.tuning.study``, which imports it) is kept only where the test
needs an outcome real training cannot be made to give on demand: chosen per-epoch values (ties,
pruning), a diverging trial, an exception.
"""

from __future__ import annotations

import math
import multiprocessing
import warnings
from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

import studies.tuning.best as best
import studies.tuning.study as tuning
from ablations import BLOG
from studies.data.datasets import load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.grid import TuningBudget
from studies.experiment.grid_file import grid_from_dict
from studies.experiment.registry import get_variant
from studies.experiment.training import fit
from studies.tuning.best import best_params_for_grid
from studies.tuning.keys import StudyKey, grid_keys, study_name
from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import make_pruner, make_sampler, prepare_studies, tune_study

BUDGET = TuningBudget(trials=2, epochs=2, seed=0)
FULL = StudyKey("full", "moons", 2)


@pytest.fixture
def url(tmp_path) -> str:
    return storage_url(tmp_path / "studies.db")


def _tune(key, url, n=2, budget=BUDGET, **kwargs):
    prepare_studies([key], budget, open_storage(url))
    return tune_study(key, budget, url, n, **kwargs)


def _trials(url, key, budget=BUDGET):
    study = optuna.load_study(study_name=study_name(key, budget), storage=open_storage(url))
    return study.get_trials(deepcopy=False)


def _fake_train(values, status="ok"):
    """A stand-in for training.fit: reports ``values`` per epoch, then ``status``."""

    def fake(config, data=None, *, evaluate_test=True, on_epoch=None, **_):
        for epoch, v in enumerate(values, 1):
            on_epoch(epoch, v)
        return SimpleNamespace(
            status=status,
            epochs_run=len(values),
            error="boom",
            val_accuracy=values[-1] if values else None,
        )

    return fake


# ---- names, sampler, pruner ---------------------------------------------------------------


def test_study_name_is_deterministic_and_carries_the_space_version():
    name = study_name(FULL, BUDGET)
    assert name == study_name(StudyKey("full", "moons", 2), TuningBudget(trials=9, epochs=2))
    assert get_variant("full").space_version in name
    assert name.startswith("full[dataset=moons,depth=2,epochs=2,")
    assert study_name(FULL, TuningBudget(epochs=3)) != name  # another budget: another study


def test_sampler_and_pruner_are_explicit_and_equal_for_every_variant():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated flag passed
        sampler = make_sampler(TuningBudget(trials=6, epochs=8), seed=3)
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert (sampler._multivariate, sampler._constant_liar, sampler._n_startup_trials) == (
        True,
        True,
        3,
    )
    pruner = make_pruner(TuningBudget(trials=6, epochs=8))
    assert isinstance(pruner, optuna.pruners.MedianPruner)
    assert (pruner._n_startup_trials, pruner._n_warmup_steps) == (2, 2)
    assert isinstance(make_pruner(TuningBudget(pruner="none")), optuna.pruners.NopPruner)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: StudyKey("ful", "moons", 2), "unknown variant 'ful'; known: full"),
        (lambda: StudyKey("full", "mons", 2), "unknown dataset 'mons'; known: moons"),
        (lambda: StudyKey("logreg", "moons", 2), "unknown depth 2 for logreg"),
        (lambda: TuningBudget(trials=0), "`1 <= trials <= 10000` must hold, but got trials=0"),
        (lambda: open_storage("nosuchdb://x/y"), "cannot open Optuna storage"),
        (lambda: open_storage("/nonexistent/dir/s.db"), "cannot open Optuna storage"),
    ],
)
def test_bad_input_is_a_value_error(make, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        make()


# ---- the preset, the objective ------------------------------------------------------------


def test_landau_studies_start_with_the_blog_preset_clipped(url, monkeypatch):
    monkeypatch.setattr(tuning, "BLOG", {**BLOG, "lr": 10.0})  # above the space: clipped to 0.1
    _tune(FULL, url, n=3)
    trials = _trials(url, FULL)
    assert [t.user_attrs["source"] for t in trials] == ["preset:blog", "sampler", "sampler"]
    space = {p.name: p for p in get_variant("full").search_space}
    expected = {n: space[n].clip(v) for n, v in {**BLOG, "lr": 10.0}.items() if n in space}
    assert trials[0].params == expected and expected["lr"] == 0.1


def test_baselines_have_no_preset(url):
    key = StudyKey("plain_mlp", "moons", 2)
    _tune(key, url)
    assert [t.user_attrs["source"] for t in _trials(url, key)] == ["sampler", "sampler"]


@pytest.mark.parametrize("write_behind", [True, False])
def test_objective_is_the_validation_accuracy(url, write_behind):
    """The trial's value and per-epoch reports are the validation accuracies of training its
    parameters (repetition 0, the budget's seed), as a grid run with those parameters gets."""
    result = _tune(FULL, url, n=1, write_behind=write_behind)
    (trial,) = _trials(url, FULL)
    config = RunConfig("full", "moons", 0, 2, BUDGET.epochs, trial.params, base_seed=BUDGET.seed)
    record = fit(config, load_dataset("moons"), evaluate_test=False)
    per_epoch = {e.epoch: e.val_accuracy for e in record.epoch_records}
    assert trial.value == record.val_accuracy and trial.intermediate_values == per_epoch
    assert result.best_value == trial.value and result.best_trial == 0
    assert trial.user_attrs == {"source": "preset:blog"} and trial.system_attrs["fixed_params"]


class _NoTestSplit:
    """The dataset with its test split made unreadable."""

    def __init__(self, data):
        self._data = data

    def __getattr__(self, name):
        if name in ("x_test", "y_test"):
            raise AssertionError("tuning read the test split")
        return getattr(self._data, name)


@pytest.mark.parametrize("key", [FULL, StudyKey("logreg", "moons", 1)])
def test_tuning_never_reads_the_test_split(url, monkeypatch, key):
    real = tuning.load_dataset
    monkeypatch.setattr(tuning, "load_dataset", lambda *a, **k: _NoTestSplit(real(*a, **k)))
    _tune(key, url)
    states = [t.state for t in _trials(url, key)]
    assert TrialState.FAIL not in states and TrialState.COMPLETE in states


@pytest.mark.parametrize("write_behind", [True, False])
def test_a_diverging_trial_reports_nan_and_is_pruned(url, monkeypatch, write_behind):
    monkeypatch.setattr(tuning, "fit", _fake_train([0.5], status="diverged"))
    result = _tune(FULL, url, n=1, write_behind=write_behind)
    (trial,) = _trials(url, FULL)
    assert trial.state == TrialState.PRUNED
    assert trial.intermediate_values[1] == 0.5 and math.isnan(trial.intermediate_values[2])
    assert result.best_value is None and "no complete trial" in result.line()


def test_an_exception_fails_the_trial_and_the_study_goes_on(url, monkeypatch):
    calls = []

    def flaky(config, data, **kwargs):
        calls.append(config)
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return _fake_train([0.7])(config, data, **kwargs)

    monkeypatch.setattr(tuning, "fit", flaky)
    result = _tune(FULL, url, n=3)
    assert [t.state for t in _trials(url, FULL)] == [TrialState.FAIL] + [TrialState.COMPLETE] * 2
    assert result.states == {"FAIL": 1, "COMPLETE": 2}


# ---- storage: resume, space check, best parameters ----------------------------------------


@pytest.mark.parametrize("write_behind", [True, False])
def test_running_again_adds_trials_and_enqueues_the_preset_once(url, write_behind):
    _tune(FULL, url, n=2)
    result = _tune(FULL, url, n=2, write_behind=write_behind)
    trials = _trials(url, FULL)
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert sum(result.states.values()) == 4 and set(result.states) <= {"COMPLETE", "PRUNED"}
    assert [t.user_attrs["source"] for t in trials].count("preset:blog") == 1
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 4  # the resumed seed differs


def test_a_study_another_process_created_meanwhile_is_used(url):
    storage = open_storage(url)
    prepare_studies([FULL], BUDGET, storage)
    with pytest.MonkeyPatch.context() as patch:  # checked before the other process created it
        patch.setattr(storage, "get_all_studies", lambda: [])
        assert prepare_studies([FULL], BUDGET, storage) == {study_name(FULL, BUDGET): 0}
    assert [t.state for t in _trials(url, FULL)] == [TrialState.WAITING]  # one preset


def test_a_study_with_another_space_is_an_error_and_nothing_is_touched(url):
    storage = open_storage(url)
    stale = optuna.create_study(storage=storage, study_name=study_name(FULL, BUDGET))
    stale.set_user_attr("space", "[]")
    other = StudyKey("plain_mlp", "moons", 2)
    with pytest.raises(ValueError, match="another search space"):
        prepare_studies([other, FULL], BUDGET, storage)
    assert [s.study_name for s in storage.get_all_studies()] == [stale.study_name]
    assert stale.user_attrs == {"space": "[]"} and stale.trials == []


def _grid(**tuning_budget):
    return grid_from_dict(
        {
            "name": "t",
            "variants": ["full", "logreg"],
            "datasets": ["moons"],
            "seeds": 1,
            "epochs": 2,
            "tuning": tuning_budget,
        }
    )


def test_best_params_for_grid_are_each_studys_best_trial(url):
    spec = _grid(trials=2, epochs=2)
    for key in grid_keys(spec):
        _tune(key, url, budget=spec.tuning)
    tuned = best_params_for_grid(spec, url)
    assert set(tuned) == {("full", "moons", 1), ("full", "moons", 2), ("logreg", "moons", 1)}
    for params, name, number in tuned.values():
        best = optuna.load_study(study_name=name, storage=open_storage(url)).best_trial
        assert (params, number) == (best.params, best.number)
    run = spec.expand(tuned=tuned)[0]
    assert run.params_source == f"study:{run.study_name}#{run.trial_number}"


def test_the_best_trial_is_the_earliest_of_equal_values(url, monkeypatch):
    spec = _grid(trials=4, epochs=2)
    values = iter([0.5, 0.75, 0.25, 0.75])
    monkeypatch.setattr(tuning, "fit", lambda c, d, **k: _fake_train([next(values)])(c, d, **k))
    key = StudyKey("logreg", "moons", 1)
    assert _tune(key, url, n=4, budget=spec.tuning).best_trial == 1
    monkeypatch.setattr(best, "grid_keys", lambda spec: [key])
    (tuned,) = best_params_for_grid(spec, url).values()
    assert tuned[2] == 1


def test_a_study_whose_trials_all_diverged_falls_back_to_labelled_defaults(url, monkeypatch):
    spec = _grid(trials=2, epochs=2)
    monkeypatch.setattr(tuning, "fit", _fake_train([0.5], status="diverged"))
    key = StudyKey("full", "moons", 1)
    _tune(key, url, n=2, budget=spec.tuning)
    monkeypatch.setattr(best, "grid_keys", lambda spec: [key])
    (entry,) = best_params_for_grid(spec, url).values()
    assert entry == ({}, study_name(key, spec.tuning), None)
    one = spec.with_overrides(variants=("full",), depths=(1,))
    (run,) = one.expand(tuned={("full", "moons", 1): entry})
    assert run.params_source.startswith("untuned:") and run.params["lr"] == 0.01


def test_missing_studies_name_every_one_and_the_command(url):
    spec = _grid(trials=2, epochs=2)
    _tune(StudyKey("full", "moons", 2), url, budget=spec.tuning)
    with pytest.raises(ValueError) as info:
        best_params_for_grid(spec, url)
    text = str(info.value)
    assert "\n" not in text and "2 of 3 studies" in text
    assert study_name(StudyKey("full", "moons", 1), spec.tuning) in text
    assert study_name(StudyKey("logreg", "moons", 1), spec.tuning) in text
    assert "`landau tune t --variants full,logreg --datasets moons --depths 1" in text


def test_best_params_for_an_empty_storage_does_not_create_tables(tmp_path):
    path = tmp_path / "none.db"
    with pytest.raises(ValueError, match="3 of 3 studies"):
        best_params_for_grid(_grid(), str(path))
    assert not path.exists()


# ---- several processes on one study: PostgreSQL (direct), SQLite (write-behind) -----------


def _worker(url: str, worker: int) -> int:
    """One process's share of the study (real training, 3 trials of 2 epochs on moons)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return tune_study(FULL, BUDGET, url, 3, worker=worker).ran


def _share_one_study(url: str) -> None:
    prepare_studies([FULL], BUDGET, open_storage(url))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        ran = pool.starmap(_worker, [(url, 0), (url, 1)])
    trials = _trials(url, FULL)
    assert ran == [3, 3] and len(trials) == 6
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert sorted(t.number for t in trials) == list(range(6))
    assert [t.user_attrs["source"] for t in trials].count("preset:blog") == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_share_one_study_on_postgresql(postgres_url):
    _share_one_study(postgres_url)


@pytest.mark.slow
def test_two_processes_share_one_study_on_sqlite(url):
    _share_one_study(url)  # write-behind: one transaction per trial, numbered under the lock
