"""One experiment, from grid spec to stored record: the merged registry, run configs, grid
expansion, model building, the training loop and the runner (local processes or Dask).
"""

from studies.experiment.config import CODE_VERSION, RunConfig, derive_seed
from studies.experiment.grid import GridSpec, TuningBudget, grid_names, load_grid
from studies.experiment.models import resolve_device
from studies.experiment.registry import REGISTRY, get_variant, parse_names
from studies.experiment.runner import GridSummary, run_grid
from studies.experiment.training import train

__all__ = [
    "CODE_VERSION",
    "REGISTRY",
    "GridSpec",
    "GridSummary",
    "RunConfig",
    "TuningBudget",
    "derive_seed",
    "get_variant",
    "grid_names",
    "load_grid",
    "parse_names",
    "resolve_device",
    "run_grid",
    "train",
]
