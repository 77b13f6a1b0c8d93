"""From a RunConfig to a model, a loss and an optimizer (the only place that reads settings)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ablations import LANDAU_OPTIONS
from baselines import PlainMLP
from landau import AllenCahn, ExperimentalNet, GinzburgLandauLoss, Langevin
from studies.experiment.config import RunConfig
from studies.experiment.device import resolve_device  # noqa: F401 (training, seed_batch)


def build_model(config: RunConfig, n_features: int, n_classes: int) -> nn.Module:
    p, s = config.params, config.settings
    if config.family == "landau":
        o = landau_options(config)
        layer_options = {}
        if o["layer"] == "landau":
            layer_options = dict(index_scale=o["index_scale"], t_dynamic=o["t_dynamic"])
            if o["gradients"] == "blog":
                layer_options["graph"] = "blog"  # the tensors the blog's graph saves
        return ExperimentalNet(
            n_features,
            p["hidden"],
            n_classes,
            beta_init=p["beta_init"],
            activation=s["activation"],
            depth=config.depth,
            beta_shape=s["beta_shape"],
            layer=o["layer"],
            **layer_options,
        )
    if config.family == "mlp":
        return PlainMLP(n_features, p["hidden"], n_classes, s["activation"], config.depth)
    raise ValueError(f"family {config.family!r} has no torch model")


def landau_options(config: RunConfig) -> dict:
    """The later options of a Landau variant (ablations.variants.LANDAU_OPTIONS) with its own."""
    return {**LANDAU_OPTIONS, **{k: v for k, v in config.settings.items() if k in LANDAU_OPTIONS}}


def training_forward(config: RunConfig, model: nn.Module) -> nn.Module:
    """What the training loop calls for the forward pass: ``model`` itself, or with
    ``config.compile`` ``torch.compile(model)`` (same parameters and buffers; evaluation keeps
    calling the eager ``model``, so eval mode and other shapes cause no recompiles). Static shapes:
    one graph for the batch size and one for a smaller last batch. Compiling costs tens of seconds
    per run on a 2-core CPU, so it pays only for long runs (see the README's performance section).
    """
    if not config.compile:
        return model
    return torch.compile(model, dynamic=False)


def build_loss(config: RunConfig) -> GinzburgLandauLoss | None:
    """The GL loss of the output layer, or None for cross-entropy."""
    s, p = config.settings, config.params
    if s["loss"] == "ce":
        return None
    return GinzburgLandauLoss(
        p["alpha"],
        p["gamma"],
        quadratic=s["quadratic"],
        quartic=s["quartic"],
        spatial=s["spatial"],
        spatial_dim=s["spatial_dim"],
        absolute=s["absolute"],
    )


def ce_loss(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(out, target)


def build_optimizer(
    config: RunConfig, model: nn.Module, generator: torch.Generator
) -> torch.optim.Optimizer:
    s, p = config.settings, config.params
    params = [q for q in model.parameters() if q.requires_grad]
    if s["optimizer"] == "langevin":
        return Langevin(
            params,
            lr=p["lr"],
            damping=p["damping"],
            temperature=p["temperature"],
            generator=generator,
        )
    if s["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=p["lr"], momentum=p["momentum"])
    if s["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=p["lr"], weight_decay=p["weight_decay"])
    raise ValueError(f"unknown optimizer {s['optimizer']!r}; known: langevin, sgd, adam")


def build_beta_update(config: RunConfig, model: nn.Module) -> AllenCahn | None:
    """The Allen–Cahn update, or None when β is static (which also freezes β's gradient)."""
    if config.family != "landau":
        return None
    s, p = config.settings, config.params
    if s["beta_update"] == "static":
        for layer in model.landau_layers.values():
            layer.beta.requires_grad_(False)
        return None
    return AllenCahn(dt=p["dt"], kappa=p["kappa"], diffusion=s["diffusion"])


def count_parameters(model: nn.Module) -> int:
    return sum(q.numel() for q in model.parameters())
