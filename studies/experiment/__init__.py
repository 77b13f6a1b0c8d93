"""One experiment, from grid spec to stored record: the merged registry, run configs, grid
expansion, model building, the training loop and the runner (local processes or Dask).

The registry, run configs and grids import no torch; the rest is imported on first use
(PEP 562), so that `landau list` and grid checks start quickly.
"""

from studies.experiment.config import RunConfig, derive_seed
from studies.experiment.device import resolve_device
from studies.experiment.grid import GridSpec, TuningBudget
from studies.experiment.grid_file import grid_from_dict, grid_names, load_grid
from studies.experiment.registry import REGISTRY, get_variant, parse_names

__all__ = [
    "REGISTRY",
    "GridSpec",
    "GridSummary",
    "RunConfig",
    "TuningBudget",
    "derive_seed",
    "get_variant",
    "grid_from_dict",
    "grid_names",
    "load_grid",
    "parse_names",
    "resolve_device",
    "run_grid",
    "train",
]


def __getattr__(name: str):
    if name in ("GridSummary", "run_grid"):
        from studies.experiment import runner

        return getattr(runner, name)
    if name == "train":
        from studies.experiment.training import train

        return train
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
