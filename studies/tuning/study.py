"""Optuna tuning: one study per (variant, dataset, depth), maximising validation accuracy.

Every study gets the same budget (trials, epochs per trial), the same sampler and pruner
settings (``studies.tuning.sampling``: every flag that matters is passed, since Optuna 5
changed TPE's defaults) and a deterministic name carrying the search space's version, e.g.
``full[dataset=moons,depth=2,epochs=8,space=1a2b3c4d]``. The test split is never read
(``train(..., evaluate_test=False)``). Landau variants start from the blog's preset, clipped to
the space (user attr ``source = "preset:blog"``; other trials ``"sampler"``). A diverging trial
reports NaN and is pruned; a failing one is FAIL and the study goes on.

Storage (``studies.tuning.storage``) is any SQLAlchemy URL. On SQLite a study runs write-behind:
on an in-memory copy seeded with its stored trials, each finished trial written with one
transaction; a killed process loses the trial in flight only, and several processes can add
trials to one study (each sees the others' trials from its next start). On a server database
(PostgreSQL) Optuna works on the storage directly, so processes sharing a study see each
other's trials at once: use one to run many processes on *one* study.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState, create_trial

from ablations import BLOG
from studies.data.catalog import DATASETS
from studies.data.datasets import load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.grid import TuningBudget
from studies.experiment.registry import get_variant
from studies.experiment.training import fit
from studies.tuning.best import best_trial
from studies.tuning.keys import StudyKey, study_name
from studies.tuning.liveness import counted, fail_stale, stale_numbers
from studies.tuning.population import run_population
from studies.tuning.sampling import make_pruner, make_sampler, sampler_seed
from studies.tuning.storage import (
    create_study,
    open_storage,
    run_study,
    shown,
    storage_url,
    study_trials,
    supports_write_behind,
)
from studies.tuning.tuner_lock import one_tuner

__all__ = [
    "StudyResult",
    "make_pruner",
    "make_sampler",
    "prepare_studies",
    "tune_study",
]


def _space_json(variant: str) -> str:
    return json.dumps([p.as_dict() for p in get_variant(variant).search_space], sort_keys=True)


def _preset(variant: str) -> dict | None:
    entry = get_variant(variant)
    if entry.family != "landau":
        return None
    return {p.name: p.clip(BLOG[p.name]) for p in entry.search_space if p.name in BLOG}


def prepare_studies(keys: Iterable[StudyKey], budget: TuningBudget, storage: RDBStorage) -> dict:
    """Check every existing study's space, then create the missing ones (the preset enqueued).
    Returns name -> trials its budget counts (``storage.counted``). Nothing is created when a
    check fails."""
    keys = list(keys)
    existing = {s.study_name: s for s in storage.get_all_studies()}
    for key in keys:
        name = study_name(key, budget)
        space = existing[name].user_attrs.get("space") if name in existing else None
        if space is not None and space != _space_json(key.variant):  # None: being created
            raise ValueError(
                f"study {name!r} in {shown(storage.url)!r} was made for another search space "
                f"than the registry's {key.variant} (user attr `space` differs); delete it or "
                "tune elsewhere"
            )
    finished = {}
    for key in keys:
        name = study_name(key, budget)
        if name not in existing and _create(storage, key, budget, name):
            finished[name] = 0  # new (False: another process created it meanwhile)
            continue
        finished[name] = counted(study_trials(storage, name)[1])
    return finished


def _create(storage: RDBStorage, key: StudyKey, budget: TuningBudget, name: str) -> bool:
    budget = budget.for_dataset(key.dataset)
    attrs = {
        "variant": key.variant,
        "dataset": key.dataset,
        "depth": key.depth,
        "space": _space_json(key.variant),
        "space_version": get_variant(key.variant).space_version,
        "epochs": budget.epochs,
        "pruner": budget.pruner,
        "population": budget.population,
        "seed": budget.seed,
        "data_seed": budget.data_seed,
    }
    if key.fixed:
        attrs["fixed"] = dict(key.fixed)
    preset = _preset(key.variant)
    enqueued = None  # as Study.enqueue_trial makes it
    if preset is not None:
        system_attrs, user_attrs = {"fixed_params": preset}, {"source": "preset:blog"}
        enqueued = create_trial(
            state=TrialState.WAITING, system_attrs=system_attrs, user_attrs=user_attrs
        )
    return create_study(storage, name, attrs, enqueued)


def _suggest(trial: optuna.Trial, p):
    if p.kind == "categorical":
        return trial.suggest_categorical(p.name, list(p.choices))
    if p.kind == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
    return trial.suggest_float(p.name, p.low, p.high, log=p.log)


class _Objective:
    """Validation accuracy of one trial; ``train_seconds`` sums time spent training only."""

    def __init__(self, key: StudyKey, budget: TuningBudget, device: str, data_dir: str | None):
        self.key, self.budget, self.device = key, budget, device
        self.data = load_dataset(
            key.dataset, data_seed=budget.data_seed, data_dir=data_dir, custom=key.custom
        )
        self.train_seconds = 0.0

    def configure(self, trial: optuna.Trial) -> RunConfig:
        """The run a trial trains: its suggested parameters, repetition 0 of the grid's seeds
        with the budget's base seed."""
        space = get_variant(self.key.variant).search_space
        params = {**dict(self.key.fixed), **{p.name: _suggest(trial, p) for p in space}}
        if "source" not in trial.user_attrs:
            trial.set_user_attr("source", "sampler")
        k, b = self.key, self.budget
        return RunConfig(
            k.variant,
            k.dataset,
            0,
            k.depth,
            b.epochs,
            params,
            base_seed=b.seed,
            data_seed=b.data_seed,
            device=self.device,
            custom_dataset=k.custom,
        )

    def many(self, trials: list[optuna.Trial]) -> list:
        """The outcomes of ``trials`` trained as populations (``studies.tuning.population``)."""
        timer = [0.0]
        start = time.perf_counter()
        try:
            return run_population(trials, self.configure, self.data, timer)
        finally:
            self.train_seconds += time.perf_counter() - start - timer[0]

    def __call__(self, trial: optuna.Trial) -> float:
        config = self.configure(trial)
        in_optuna = 0.0  # report + should_prune: storage and pruner time, not training

        def on_epoch(epoch: int, val_acc: float) -> None:
            nonlocal in_optuna
            start = time.perf_counter()
            trial.report(val_acc, epoch)
            prune = trial.should_prune()
            in_optuna += time.perf_counter() - start
            if prune:
                raise optuna.TrialPruned(f"below the median at epoch {epoch}")

        start = time.perf_counter()
        try:
            # Exceptions propagate with their traceback: Optuna records the trial as FAIL.
            record = fit(config, self.data, evaluate_test=False, on_epoch=on_epoch)
        finally:
            self.train_seconds += time.perf_counter() - start - in_optuna
        if record.status == "diverged":
            trial.report(math.nan, record.epochs_run + 1)
            raise optuna.TrialPruned(record.error)
        return float(record.val_accuracy)


class _Ran(list):
    """The states of the trials run now, each passed on to ``on_trial`` as it ends."""

    def __init__(self, on_trial: Callable[[str], None] | None) -> None:
        super().__init__()
        self.on_trial = on_trial

    def append(self, state: str) -> None:
        super().append(state)
        if self.on_trial is not None:
            self.on_trial(state)


@dataclass
class StudyResult:
    """One study after tuning: its best trial, trial states and where the time went."""

    name: str
    key: StudyKey
    ran: int = 0
    best_value: float | None = None
    best_params: dict = field(default_factory=dict)
    best_trial: int | None = None
    states: Counter = field(default_factory=Counter)
    wall_seconds: float = 0.0
    train_seconds: float = 0.0

    @property
    def overhead_seconds(self) -> float:
        return max(self.wall_seconds - self.train_seconds, 0.0)

    def line(self) -> str:
        s = self.states
        counts = (
            f"the study holds {s['COMPLETE']} complete, {s['PRUNED']} pruned and {s['FAIL']} "
            "failed trials"
        )
        if self.best_value is None:
            return f"{self.name}: no complete trial ({counts})"
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in self.best_params.items()
        )
        custom = self.key.custom
        k = (custom.info if custom is not None else DATASETS[self.key.dataset]).n_classes
        return (
            f"{self.name}: best validation accuracy {100 * self.best_value:.1f} % (chance "
            f"{100 / k:.1f} %, 1 of {k} classes; trial #{self.best_trial}: {params}); {counts}"
        )


def tune_study(
    key: StudyKey,
    budget: TuningBudget,
    url: str,
    n_trials: int,
    *,
    device: str = "cpu",
    data_dir: str | None = None,
    worker: int = 0,
    on_trial: Callable[[str], None] | None = None,
    write_behind: bool | None = None,
    top_up: bool = False,
) -> StudyResult:
    """Add ``n_trials`` trials to the (prepared) study of ``key`` (with ``top_up``: as many as
    it lacks to have ``n_trials`` that its budget counts); ``worker`` varies the seed
    when several processes work on one study. ``write_behind`` (default: on SQLite) runs the
    study in memory and writes each finished trial with one transaction; False calls the
    storage for every step (what processes sharing a study on a server database need).
    Wall time covers the storage and sampler work (data loading excepted); train time the
    training only, the trial's report/should_prune calls excepted."""
    start = time.perf_counter()
    budget = budget.for_dataset(key.dataset)
    name = study_name(key, budget)
    storage = open_storage(url)
    if write_behind is None:
        write_behind = supports_write_behind(storage)
    elif write_behind and not supports_write_behind(storage):
        raise ValueError(f"write-behind needs a SQLite storage, but got {shown(url)!r}")
    # SQLite, topping up to a budget: one tuner per study (write-behind copies would each add
    # the trials the study lacks); adding n trials (``top_up`` off) may share a study
    with one_tuner(storage_url(url), name) if write_behind and top_up else nullcontext():
        study_id, stored = study_trials(storage, name)
        if any(t.state == TrialState.RUNNING for t in stored):  # of a dead process?
            fail_stale(storage, name)
            study_id, stored = study_trials(storage, name)
        limit = n_trials if top_up and not write_behind else None  # claimed trial by trial
        if top_up:
            n_trials = max(0, n_trials - counted(stored))
            if limit is not None and (
                n_trials or any(t.state == TrialState.RUNNING for t in stored)
            ):
                n_trials = limit  # a running trial of a dead process may still be failed meanwhile
        loading = time.perf_counter()
        objective = (
            _Objective(key, budget, device, data_dir) if n_trials > 0 else None
        )  # loads data
        start += time.perf_counter() - loading  # data loading is neither training nor Optuna
        seed = sampler_seed(budget.seed, name, len(stored) * 1000 + worker)
        ran = _Ran(on_trial)
        finished = run_study(
            storage,
            study_id,
            stored,
            objective,
            n_trials,
            sampler=make_sampler(budget, seed),
            pruner=make_pruner(budget),
            callbacks=[lambda _study, trial: ran.append(trial.state.name)],
            write_behind=write_behind,
            limit=limit,
            population=budget.population,
        )
        stale = stale_numbers(finished)
        states = Counter(t.state.name for t in finished if t.number not in stale)
        result = StudyResult(name, key, len(ran), states=states)
        best = best_trial(finished)
        if best is not None:
            result.best_value, result.best_params, result.best_trial = (
                best.value,
                best.params,
                best.number,
            )
        result.wall_seconds = time.perf_counter() - start
        result.train_seconds = objective.train_seconds if objective else 0.0
        return result
