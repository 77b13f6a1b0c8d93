"""The tuned parameters a grid takes (``landau grid --tuned``): the best complete trial of each
of its studies, ties broken by trial number, with an error that names every missing study and the
command that creates it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from studies.experiment.grid import GridSpec
from studies.experiment.registry import get_variant
from studies.tuning.keys import StudyKey, grid_keys, study_name
from studies.tuning.storage import open_storage, shown, study_trials

__all__ = ["best_params_for_grid", "best_trial", "tuned_epochs"]


def best_trial(trials: Iterable[FrozenTrial]) -> FrozenTrial | None:
    """The complete trial with the highest value; the earliest of equals (deterministic, where
    Optuna's get_best_trial leaves ties to the database's order)."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    return max(complete, key=lambda t: (t.value, -t.number), default=None)


def best_params_for_grid(
    spec: GridSpec, storage_url: str, *, epochs: int | None = None, command: str | None = None
) -> dict:
    """(variant, dataset, depth) -> (best params, study name, trial number) for every study of
    the grid, with the grid's [tuning] budget (or ``epochs`` per trial); ValueError naming every
    missing study, the budgets the storage has for them, and the command that creates them
    (``command``: `landau tune` with the grid and the storage as the user names them; default
    the grid's name and ``--storage storage_url``).

    A study whose trials all ended pruned, diverged or failed gives ({}, name, None): the grid
    then runs the variant's defaults and labels them ``untuned:<study>`` — a variant that cannot
    be tuned is a result, not an error.
    """
    budget = spec.tuning
    if epochs is not None:  # --tuned-epochs: these epochs per trial, for every dataset
        budget = dataclasses.replace(budget, epochs=epochs, dataset_epochs=())
    storage = open_storage(storage_url, create=False)
    tuned, missing = {}, []
    for key in grid_keys(spec):
        name = study_name(key, budget)
        try:
            trials = study_trials(storage, name)[1] if storage is not None else []
        except KeyError:  # no such study
            trials = []
        finished = [t for t in trials if t.state.is_finished()]
        if not finished:  # no study, no Optuna tables at all, or nothing run yet
            missing.append(key)
            continue
        best = best_trial(finished)
        entry = (dict(best.params), name, best.number) if best is not None else ({}, name, None)
        tuned[(key.variant, key.dataset, key.depth)] = entry
    if missing:
        names = ", ".join(study_name(k, budget) for k in missing)
        where = shown(str(storage_url))
        variants = ",".join(dict.fromkeys(k.variant for k in missing))
        fixed = dict(sorted(kv for k in missing for kv in k.fixed))
        sets = "".join(f" --set {k}={v}" for k, v in fixed.items())
        cmd = (
            f"{command or f'landau tune {spec.name}'} --variants {variants} "
            f"--datasets {','.join(dict.fromkeys(k.dataset for k in missing))} "
            f"--depths {','.join(map(str, sorted({k.depth for k in missing})))} "
            f"--trials {budget.trials}"
            + ("" if budget.dataset_epochs else f" --epochs {budget.epochs}")  # the grid's own
            + f" --seed {budget.seed}{sets}"
            + ("" if command else f" --storage {where}")
        )
        others = sorted(tuned_epochs(storage, missing) - {budget.epochs})
        elsewhere = (
            f"; the storage has them tuned with {', '.join(map(str, others))} epochs per trial "
            f"(take those with --tuned-epochs {others[-1]})"
            if others
            else ""
        )
        raise ValueError(
            f"no tuned parameters (no study, or no finished trial) in {where!r} "
            f"for {len(missing)} of {len(tuned) + len(missing)} studies: {names}{elsewhere}; "
            f"or create them with `{cmd}`"
        )
    return tuned


def tuned_epochs(storage: RDBStorage | None, keys: Iterable[StudyKey]) -> set[int]:
    """The epochs per trial of the stored studies of ``keys`` (same variant, dataset, depth,
    fixed parameters and search space)."""
    if storage is None:
        return set()
    found: dict[tuple, set[int]] = {}
    for summary in storage.get_all_studies():
        a = summary.user_attrs
        if not {"variant", "dataset", "depth", "epochs"} <= set(a):
            continue
        ident = (a["variant"], a["dataset"], int(a["depth"]), a.get("space_version"))
        ident += (tuple(sorted(a.get("fixed", {}).items())),)
        found.setdefault(ident, set()).add(int(a["epochs"]))
    sets = [
        found.get((k.variant, k.dataset, k.depth, get_variant(k.variant).space_version, k.fixed))
        or set()
        for k in keys
    ]
    return set.intersection(*sets) if sets else set()
