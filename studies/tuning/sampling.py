"""The sampler and pruner every study gets, and the sampler's seed.

Every study gets the same sampler and pruner settings: every flag that matters is passed, since
Optuna 5 changed TPE's defaults. ``constant_liar`` also lets a population of trials asked at once
(``studies.tuning.population``) spread out.
"""

from __future__ import annotations

import hashlib

import optuna

from studies.experiment.grid import TuningBudget

__all__ = ["make_pruner", "make_sampler", "sampler_seed"]


def make_sampler(budget: TuningBudget, seed: int) -> optuna.samplers.TPESampler:
    """TPE, every relevant flag explicit (Optuna 5 made multivariate and constant_liar the
    defaults; the deprecated flags are left out because passing them warns)."""
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=max(2, min(10, budget.trials // 2)),  # random start, then TPE
        n_ei_candidates=24,
        multivariate=True,  # joint density over the (correlated) Landau coefficients
        group=False,
        constant_liar=True,  # direct mode: processes on one study avoid each other's running trials
    )


def make_pruner(budget: TuningBudget) -> optuna.pruners.BasePruner:
    """``median``: median of the per-epoch validation accuracy of completed trials, after a
    warm-up; ``hyperband``: Hyperband (successive halving from 1 epoch to the trial's epochs,
    reduction factor 3), the multi-fidelity pruner; ``none``."""
    if budget.pruner == "none":
        return optuna.pruners.NopPruner()
    if budget.pruner == "hyperband":  # multi-fidelity: successive halving over epochs
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=budget.epochs, reduction_factor=3
        )
    return optuna.pruners.MedianPruner(
        n_startup_trials=max(1, budget.trials // 3),
        n_warmup_steps=max(1, budget.epochs // 4),
        interval_steps=1,
        n_min_trials=1,
    )


def sampler_seed(base: int, name: str, offset: int) -> int:
    """Differs per study, per resumption (``offset`` = trials so far) and per worker."""
    return int(hashlib.sha256(f"{base}/{name}/{offset}".encode()).hexdigest()[:8], 16)
