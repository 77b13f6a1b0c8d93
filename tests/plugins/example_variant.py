"""A user's plugin, as docs/plugins.md writes one: a GELU activation and two variants using it.

Loaded by tests/conftest.py for the whole session, so every contract test that is parametrised
from the registries (nets, training, seed batching, tuning) runs these entries too.
"""

import torch.nn.functional as F

from ablations import Param, Variant, landau_variant

ACTIVATIONS = {"gelu": F.gelu}

VARIANTS = (
    landau_variant(
        "gelu_full",
        "The full model with GELU in place of the blog's rrelu.",
        "activation: GELU (plugin)",
        {"activation": "gelu"},
        params=("lr", "damping", "temperature", "alpha", "gamma", "dt"),
    ),
    Variant(
        name="gelu_mlp",
        description="A plain MLP with GELU, tuned over its learning rate and width.",
        changes="layers: nn.Linear; activation: GELU; loss: cross-entropy; optimizer: Adam",
        family="mlp",
        settings={"loss": "ce", "optimizer": "adam", "activation": "gelu"},
        defaults={"lr": 3e-3, "hidden": 32, "batch_size": 32, "weight_decay": 0.0},
        search_space=(
            Param("lr", 1e-4, 3e-2, log=True),
            Param("hidden", 8, 64, kind="int"),
        ),
    ),
)
