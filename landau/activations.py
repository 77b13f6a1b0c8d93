"""The activations a net may use, by name: the one place an activation is added.

``ACTIVATIONS`` is the registry (name -> elementwise function of a tensor). A user's plugin adds
its own through :func:`register_activation` (``studies.experiment.plugins`` does it for the
``ACTIVATIONS`` a plugin module declares); the tests of the nets, of seed batching and of the
registry are parametrised from it, so a new entry is tested without naming it anywhere else.

An activation must be elementwise and deterministic: the seed-batched net applies it to every
seed's slice at once (``landau.stack_nets``), which is the sequential computation only then.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor

__all__ = ["ACTIVATIONS", "activation_fn", "register_activation"]

Activation = Callable[[Tensor], Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "rrelu": F.rrelu,  # the blog's code: F.rrelu(x), training=False, a fixed leaky ReLU
    "mish": F.mish,  # the caption of the blog's results table
    "relu": F.relu,
}


def activation_fn(name: str) -> Activation:
    """The activation called ``name``; ValueError lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


def register_activation(name: str, fn: Activation) -> None:
    """Add ``fn`` under ``name``; a name that is taken or not an identifier raises ValueError."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"activation names must be identifiers, but got {name!r}")
    if not callable(fn):
        raise ValueError(f"activation {name!r} must be callable, but got {fn!r}")
    if name in ACTIVATIONS:
        raise ValueError(f"duplicate activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    ACTIVATIONS[name] = fn
