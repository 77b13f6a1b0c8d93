"""Tuning trials as populations: ``population`` trials asked at once through Optuna's
ask-and-tell interface, trained as one model where their parameters allow, each told its own
result.

TPE asks the k trials of a population one after another while the earlier ones are RUNNING;
with ``constant_liar`` (``studies.tuning.sampling``) it treats those as if they had scored badly, so
the k differ instead of clustering on one optimum. Trials whose parameters share a population
key (``studies.experiment.members``: for the Langevin variants every tuned parameter is a
member parameter) train as one model (``fit_seeds``); the others (torch.optim's lr/momentum, a
sklearn model) train alone. A trial's validation accuracy is the same bits alone or in any
population (the kernels are member-invariant), so a population changes which trials a study
asks, never what a trial scores. Each member reports its validation accuracy every epoch and
asks the pruner; a pruned member stops alone (``fit_seeds(stop_on=...)``), like a diverged one.
Budgets still count trials one by one: the storage paths (``storage.run_study``,
``direct.run_direct``) write or claim each trial as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import optuna
from optuna.trial import TrialState

from studies.experiment.config import RunConfig
from studies.experiment.seed_batch import batch_key, batchable, fit_seeds
from studies.experiment.training import fit

__all__ = ["Outcome", "run_population"]

Outcome = tuple[TrialState, float | None]


def run_population(
    trials: Sequence[optuna.Trial],
    configure: Callable[[optuna.Trial], RunConfig],
    data,
    timer: list[float],
) -> list[Outcome]:
    """Each trial's outcome: COMPLETE with its validation accuracy, PRUNED (by the pruner, or
    diverged: NaN reported at the next step) or FAIL (its training raised; every trial of its
    population then fails, with the reason as user attr ``error``). ``timer[0]`` accumulates
    the seconds spent in the trials' report/should_prune calls (storage and pruner, not
    training) and in building the trials' runs (the sampler's suggestions). A trial whose run
    cannot be built (an exception from the suggestions or the config's checks) FAILs alone, as
    with one trial at a time. KeyboardInterrupt propagates (the caller gives the trials back)."""
    outcomes: list[Outcome | None] = [None] * len(trials)
    configs: dict[int, RunConfig] = {}
    start = time.perf_counter()
    for i, trial in enumerate(trials):
        try:
            configs[i] = configure(trial)
        except Exception as exc:
            _fail(trial, exc)
            outcomes[i] = (TrialState.FAIL, None)
    timer[0] += time.perf_counter() - start
    groups: dict = {}
    for i, config in configs.items():
        groups.setdefault(batch_key(config) if batchable(config) else ("alone", i), []).append(i)
    for members in groups.values():
        callbacks = [_on_epoch(trials[i], timer) for i in members]
        try:
            if len(members) == 1 and not batchable(configs[members[0]]):
                records = [_alone(configs[members[0]], data, callbacks[0])]
            else:
                records = fit_seeds(
                    [configs[i] for i in members],
                    data,
                    evaluate_test=False,  # tuning reads the validation split only
                    on_epoch=callbacks,
                    stop_on=(optuna.TrialPruned,),
                )
        except Exception as exc:  # a failing population: its trials FAIL, the study goes on
            for i in members:
                _fail(trials[i], exc)
                outcomes[i] = (TrialState.FAIL, None)
            continue
        for i, record in zip(members, records, strict=True):
            outcomes[i] = _outcome(trials[i], record)
    return outcomes


def _fail(trial: optuna.Trial, exc: Exception) -> None:
    trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])


def _alone(config: RunConfig, data, on_epoch):
    try:
        return fit(config, data, evaluate_test=False, on_epoch=on_epoch)
    except optuna.TrialPruned:
        return None


def _on_epoch(trial: optuna.Trial, timer: list[float]):
    def report(epoch: int, val_acc: float) -> None:
        start = time.perf_counter()
        trial.report(val_acc, epoch)
        prune = trial.should_prune()
        timer[0] += time.perf_counter() - start
        if prune:
            raise optuna.TrialPruned(f"below the pruner's threshold at epoch {epoch}")

    return report


def _outcome(trial: optuna.Trial, record) -> Outcome:
    if record is None:  # stopped by the pruner
        return TrialState.PRUNED, None
    if record.status == "diverged":
        trial.report(math.nan, record.epochs_run + 1)
        return TrialState.PRUNED, None
    return TrialState.COMPLETE, float(record.val_accuracy)
