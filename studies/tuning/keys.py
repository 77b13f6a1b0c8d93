"""Which studies a grid has and what they are called: one per (variant, dataset, depth) the
variant is defined for, named deterministically from the search space's version, the epochs per
trial and the untuned parameters the grid fixes, e.g.
``full[dataset=moons,depth=2,epochs=8,space=1a2b3c4d,hidden=64]``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from studies.data.custom import CustomDataset
from studies.experiment.config import RunConfig
from studies.experiment.grid import GridSpec, TuningBudget
from studies.experiment.registry import get_variant

__all__ = ["StudyKey", "fixed_params", "grid_keys", "study_name", "tuned_names"]


@dataclass(frozen=True)
class StudyKey:
    """What one study tunes: ``variant`` on ``dataset`` at ``depth``, with the untuned
    parameters ``fixed`` (sorted (name, value) pairs, from ``--set`` or the grid's [params]);
    ``custom`` is the user's file when ``dataset`` is one of a grid's [custom_datasets]."""

    variant: str
    dataset: str
    depth: int
    fixed: tuple = ()
    custom: CustomDataset | None = None

    def __post_init__(self) -> None:
        # unknown names and bad values raise ValueError
        config = RunConfig(
            self.variant,
            self.dataset,
            0,
            self.depth,
            1,
            dict(self.fixed),
            custom_dataset=self.custom,
        )
        fixed = tuple(sorted((k, config.params[k]) for k, _ in self.fixed))
        clash = sorted(k for k, _ in fixed if k in tuned_names(self.variant))
        if clash:
            raise ValueError(
                f"{', '.join(clash)} is tuned for {self.variant} (its search space): a study "
                "fixes untuned parameters only"
            )
        object.__setattr__(self, "fixed", fixed)


def tuned_names(variant: str) -> set[str]:
    """The parameters the study of ``variant`` tunes (its search space)."""
    return {p.name for p in get_variant(variant).search_space}


def fixed_params(variant: str, params) -> tuple:
    """The study identity's share of ``params``: the untuned parameters of ``variant`` that
    differ from its defaults (a tuned one is overridden by the study's best trial anyway)."""
    entry = get_variant(variant)
    merged = entry.resolve({k: v for k, v in params.items() if k in entry.defaults})
    return tuple(
        sorted(
            (k, merged[k])
            for k in params
            if k in entry.defaults
            and k not in tuned_names(variant)
            and merged[k] != entry.defaults[k]
        )
    )


def study_name(key: StudyKey, budget: TuningBudget) -> str:
    """Deterministic: a changed search space, epochs per trial or fixed parameter is a new
    study, e.g. ``full[dataset=moons,depth=2,epochs=8,space=1a2b3c4d,hidden=64]``; a user's
    file adds its content hash (``dataset=mine,data=1a2b3c4d,…``): an edited file is a new study.
    A pruner other than the median, a tuning population > 1, a seed other than 0 and a data
    split other than 0 are named (``…,pruner=hyperband,population=8,seed=1,split=2``): they
    change which trials a study runs and what they score."""
    data = f",data={key.custom.fingerprint[:8]}" if key.custom is not None else ""
    budget = budget.for_dataset(key.dataset)
    where = f"dataset={key.dataset}{data},depth={key.depth},epochs={budget.epochs}"
    fixed = "".join(f",{k}={v}" for k, v in key.fixed)
    # how trials are asked and pruned changes what a study finds: another study when not default
    how = f",pruner={budget.pruner}" if budget.pruner != "median" else ""
    how += f",population={budget.population}" if budget.population > 1 else ""
    # another sampler/training seed or data split is another study (a replicate tunes anew)
    how += f",seed={budget.seed}" if budget.seed else ""
    how += f",split={budget.data_seed}" if budget.data_seed else ""
    return f"{key.variant}[{where},space={get_variant(key.variant).space_version}{fixed}{how}]"


def grid_keys(spec: GridSpec) -> list[StudyKey]:
    """One key per (variant, dataset, depth) of the grid that the variant is defined for; the
    grid's [params] (with --set) fix the untuned parameters they name."""
    product = itertools.product(spec.variants, spec.datasets, spec.depths)
    return [
        StudyKey(v, d, n, fixed_params(v, spec.params), spec.custom_datasets.get(d))
        for v, d, n in product
        if n in get_variant(v).depths
    ]
