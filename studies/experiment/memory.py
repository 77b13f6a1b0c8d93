"""How much memory a run needs, estimated before it runs (the plan line shows the largest).

The model is built on torch's ``meta`` device (shapes only, nothing allocated), so the count of
parameters and buffers is exact for every registry entry; the rest is a rough rule:

    bytes ≈ 4 · (4 · parameters + buffers + 6 · batch · hidden · depth + 2 · chunk · hidden)

four float32 copies of the parameters (weights, gradients, the optimizer's state, the Langevin
noise or the loss's graph), about six saved (batch, hidden) activations per layer in training,
and two (chunk, hidden) ones while evaluating (at most EVAL_CHUNK rows at a time: an upper bound
for the small datasets). Seeds trained as one model multiply it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from studies.data.catalog import DATASETS
from studies.experiment.config import RunConfig
from studies.experiment.models import build_model
from studies.experiment.recording import EVAL_CHUNK

__all__ = ["largest_run", "model_size", "readable", "run_bytes"]

_FLOAT = 4  # float32


def _info(config: RunConfig):
    """The dataset's shape: a user's file (``[custom_datasets]``) or the catalogue's entry."""
    custom = config.custom_dataset
    return custom.info if custom is not None else DATASETS[config.dataset]


def model_size(config: RunConfig) -> tuple[int, int]:
    """The numbers of parameters and buffer elements of ``config``'s torch model, counted on the
    meta device (nothing allocated, however large)."""
    info = _info(config)
    with torch.device("meta"):
        model = build_model(config, info.n_features, info.n_classes)
    return sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers())


def run_bytes(config: RunConfig) -> int:
    """The estimated peak memory of training ``config`` alone, in bytes."""
    info = _info(config)
    if config.family == "sklearn":  # lbfgs: a few copies of the (features + 1, classes) weights
        return _FLOAT * 8 * (info.n_features + 1) * info.n_classes
    parameters, buffers = model_size(config)
    batch, hidden = int(config.params.get("batch_size", 1)), int(config.params.get("hidden", 1))
    activations = 6 * batch * hidden * config.depth + 2 * EVAL_CHUNK * hidden
    return _FLOAT * (4 * parameters + buffers + activations)


def largest_run(runs: Sequence[RunConfig]) -> tuple[RunConfig, int] | None:
    """The run of ``runs`` with the largest estimate, and the estimate (None for no runs). One
    estimate per distinct (variant, dataset, depth, parameters)."""
    estimates: dict[tuple, tuple[RunConfig, int]] = {}
    for run in runs:
        key = (run.variant, run.dataset, run.depth, tuple(sorted(run.params.items())))
        if key not in estimates:
            estimates[key] = (run, run_bytes(run))
    return max(estimates.values(), key=lambda pair: pair[1], default=None)


def readable(size: int) -> str:
    """``1.2 GB``, ``35 MB``, ``512 kB``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"
