"""The model under study: Landau layers, the Ginzburg–Landau loss, the Allen–Cahn update of β,
the Langevin optimizer and the blog's ExperimentalNet. Depends on torch only."""

from landau.activations import ACTIVATIONS, activation_fn, register_activation
from landau.batched import (
    SeedBatchedBatchNorm1d,
    SeedBatchedLinear,
    seed_cross_entropy,
    stack_modules,
    unstack_state_dict,
)
from landau.layer import BETA_SHAPES, LandauLayer, SeedBatchedLandauLayer
from landau.loss import GinzburgLandauLoss, ginzburg_landau_loss, loss_density, unit_loss
from landau.nets import ExperimentalNet, stack_nets
from landau.optim import Langevin, blog_sequential_step, langevin
from landau.phase_field import (
    DIFFUSIONS,
    AllenCahn,
    allen_cahn_rhs,
    central_difference,
    ginzburg_landau_energy,
    laplacian,
)

__all__ = [
    "ACTIVATIONS",
    "BETA_SHAPES",
    "DIFFUSIONS",
    "AllenCahn",
    "ExperimentalNet",
    "GinzburgLandauLoss",
    "LandauLayer",
    "Langevin",
    "SeedBatchedBatchNorm1d",
    "SeedBatchedLandauLayer",
    "SeedBatchedLinear",
    "activation_fn",
    "blog_sequential_step",
    "allen_cahn_rhs",
    "central_difference",
    "ginzburg_landau_energy",
    "ginzburg_landau_loss",
    "langevin",
    "laplacian",
    "register_activation",
    "loss_density",
    "seed_cross_entropy",
    "stack_modules",
    "stack_nets",
    "unit_loss",
    "unstack_state_dict",
]
