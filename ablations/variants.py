"""The variants of the Landau model. Adding a variant is one entry in ``VARIANTS``.

Every entry is the full model with ``settings`` changed; ``LANDAU_SETTINGS`` and
``LANDAU_DEFAULTS`` say what the full model is (the blog's model and training).
"""

from __future__ import annotations

from types import MappingProxyType

from ablations.presets import BLOG
from ablations.spec import Param, Variant

# Structural choices of the full model. Where the blog is silent, see README "Faithfulness".
LANDAU_SETTINGS = MappingProxyType(
    {
        "loss": "gl",  # Ginzburg–Landau energy of the output layer ("ce": cross-entropy)
        "quadratic": True,
        "quartic": True,
        "spatial": True,
        "absolute": True,  # the blog's |mean(...)|
        "spatial_dim": 0,  # the blog's "spatial" derivative runs along the batch
        "optimizer": "langevin",  # or "sgd"
        "beta_update": "allen_cahn",  # after every optimizer step; "static": frozen β
        "beta_shape": "scalar",
        "diffusion": "blog",  # -β_xx (anti-diffusion); "physical": +β_xx
        "activation": "rrelu",
    }
)

# Options added after the first release, at the full model's (the blog's) value. A variant's
# settings carry only those it changes, so the run ids of existing variants stay as they were;
# studies/experiment/models.py reads {**LANDAU_OPTIONS, **settings}.
LANDAU_OPTIONS = MappingProxyType(
    {
        "layer": "landau",  # "linear": bias-free nn.Linear instead of the Landau layers
        "index_scale": True,  # the blog's arange(in) input weighting; False: ones
        "t_dynamic": True,  # the input-adaptive t * sigmoid(mean x) * sinh(5 β) term
        "gradients": "autograd",  # "blog": its sequential per-parameter gradients and updates
    }
)

LANDAU_DEFAULTS = MappingProxyType(
    {
        "lr": BLOG["lr"],
        "damping": BLOG["damping"],
        "temperature": BLOG["temperature"],
        "alpha": BLOG["alpha"],
        "gamma": BLOG["gamma"],
        "beta_init": BLOG["beta_init"],
        "dt": BLOG["dt"],
        "kappa": BLOG["kappa"],
        "hidden": BLOG["hidden"],
        "batch_size": 64,
    }
)

_SPACE = {
    p.name: p
    for p in (
        Param("lr", 1e-4, 1e-1, log=True),
        Param("damping", 1e-3, 0.5, log=True),
        Param("temperature", 1e-5, 1e-1, log=True),
        Param("alpha", 1e-3, 1.0, log=True),
        Param("gamma", 1e-2, 10.0, log=True),
        Param("dt", 1e-4, 1e-1, log=True),
        Param("kappa", 1e-3, 1e-1, log=True),
        Param("momentum", 0.0, 0.99),
    )
}


def space(*names: str) -> tuple[Param, ...]:
    """The shared parameter definitions for ``names`` (one definition per name, reused)."""
    return tuple(_SPACE[n] for n in names)


def landau_variant(
    name: str,
    description: str,
    changes: str,
    settings: dict | None = None,
    extra_defaults: dict | None = None,
    params: tuple[str, ...] = (),
    search_space: tuple[Param, ...] = (),
) -> Variant:
    """The full model with ``settings`` and ``extra_defaults`` changed; tuned over the shared
    definitions of ``params`` and the entry's own ``search_space`` (also how a plugin declares
    a Landau variant: docs/plugins.md)."""
    return Variant(
        name=name,
        description=description,
        changes=changes,
        family="landau",
        settings={**LANDAU_SETTINGS, **(settings or {})},
        defaults={**LANDAU_DEFAULTS, **(extra_defaults or {})},
        search_space=space(*params) + tuple(search_space),
    )


# kappa only acts on a field β (for the blog's scalar β the force is identically zero), so it is
# tuned only where it matters.
_FULL_PARAMS = ("lr", "damping", "temperature", "alpha", "gamma", "dt")

VARIANTS: tuple[Variant, ...] = (
    landau_variant(
        "full",
        "The blog's model and training: Landau layers, GL loss, Allen–Cahn β, Langevin.",
        "nothing: the reference",
        params=_FULL_PARAMS,
    ),
    landau_variant(
        "no_quartic",
        "GL loss without the -gamma d^4 term.",
        "loss: quartic term removed",
        {"quartic": False},
        params=("lr", "damping", "temperature", "alpha", "dt"),
    ),
    landau_variant(
        "no_spatial",
        "GL loss without the 0.5 (d phi/dx)^2 'spatial coherence' term.",
        "loss: spatial term removed",
        {"spatial": False},
        params=("lr", "damping", "temperature", "alpha", "gamma", "dt"),
    ),
    landau_variant(
        "static_beta",
        "β frozen at its initial value: no Allen–Cahn update and no gradient.",
        "β: frozen at beta_init",
        {"beta_update": "static"},
        params=("lr", "damping", "temperature", "alpha", "gamma"),
    ),
    landau_variant(
        "sgd",
        "Langevin replaced by torch.optim.SGD with momentum (no noise, no damping).",
        "optimizer: SGD(momentum) instead of Langevin",
        {"optimizer": "sgd"},
        {"momentum": 0.9},
        params=("lr", "momentum", "alpha", "gamma", "dt"),
    ),
    landau_variant(
        "no_noise",
        "Langevin at temperature 0 (heavy-ball momentum with the blog's damping).",
        "optimizer: temperature 0",
        {"optimizer": "langevin"},
        {"temperature": 0.0},
        params=("lr", "damping", "alpha", "gamma", "dt"),
    ),
    landau_variant(
        "ce_loss",
        "Landau layers trained with cross-entropy instead of the GL loss.",
        "loss: cross-entropy",
        {"loss": "ce"},
        params=("lr", "damping", "temperature", "dt"),
    ),
    landau_variant(
        "no_index_scale",
        "Every input weighted by 1 instead of its index i (arange): input 0 is no longer dead.",
        "layer: ones instead of arange index weighting (correction)",
        {"index_scale": False},
        params=_FULL_PARAMS,
    ),
    landau_variant(
        "no_tdynamic",
        "Without the input-adaptive t sigmoid(mean x) sinh(5β) term (t frozen).",
        "layer: t_dynamic term removed",
        {"t_dynamic": False},
        params=_FULL_PARAMS,
    ),
    landau_variant(
        "linear_layers",
        "Landau layers replaced by bias-free linear layers; same GL loss and Langevin, no β.",
        "layers: bias-free nn.Linear (no β, no t, no hyperbolic modulation)",
        {"layer": "linear", "beta_update": "static"},
        params=("lr", "damping", "temperature", "alpha", "gamma"),
    ),
    landau_variant(
        "mish",
        "Mish activation, as the caption of the blog's results table says (its code: rrelu).",
        "activation: Mish",
        {"activation": "mish"},
        params=_FULL_PARAMS,
    ),
    landau_variant(
        "blog_gradients",
        "The blog's optimizer order: each parameter's gradient taken after the earlier ones "
        "were updated in place (β, t and BatchNorm read the new w / t).",
        "optimizer: the blog's sequential per-parameter gradients (faithful, item 17)",
        {"gradients": "blog"},
        params=_FULL_PARAMS,
    ),
    landau_variant(
        "field_beta",
        "One β per unit with physical +β_xx diffusion and the per-unit loss force.",
        "β: a field over the units, diffusion +β_xx (corrected physics)",
        {"beta_shape": "field", "diffusion": "physical"},
        params=(*_FULL_PARAMS, "kappa"),
    ),
)
