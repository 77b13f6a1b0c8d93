"""A member of a population layer computes bitwise the same forward values and gradients
whatever members share the call, and wherever it sits among them (issue 18): the kernels may
not fold the member axis into a BLAS call whose blocking depends on the population's size, nor
hand BLAS a member's matrix whose alignment depends on its position (landau.member_bmm)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from landau import LandauLayer, SeedBatchedLandauLayer, stack_modules

MEMBERS = 5
POPULATIONS = [[2], [0, 1, 2, 3, 4], [4, 2, 1], [2, 0]]  # member 2 alone, first, middle, last
DRAWS = 6


def _landau_layers(in_features, out_features, beta_shape):
    layers = []
    for s in range(MEMBERS):
        torch.manual_seed(100 + s)
        layers.append(LandauLayer(in_features, out_features, 0.05 * (s + 1), beta_shape=beta_shape))
    return layers


def _linear_layers(in_features, out_features):
    layers = []
    for s in range(MEMBERS):
        torch.manual_seed(100 + s)
        layers.append(nn.Linear(in_features, out_features))
    return layers


def _member_results(layers, stack, x, grad_out, population, member):
    """Member ``member``'s output and parameter gradients, trained in ``population``."""
    model = stack([layers[i] for i in population])
    inputs = x[population].clone().requires_grad_(True)
    out = model(inputs)
    out.backward(grad_out[population])
    at = population.index(member)
    grads = [p.grad[at].clone() for p in model.parameters()]
    return [out[at].detach(), inputs.grad[at], *grads]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])  # training, diagnostics
@pytest.mark.parametrize("batch", [53, 64, 7])  # 53: digits' short last batch, as trained
@pytest.mark.parametrize(
    "kind, in_features, out_features",
    [
        ("scalar", 64, 156),
        ("scalar", 156, 10),
        ("scalar", 64, 33),  # an odd hidden width: members' matrices start unaligned
        ("field", 64, 20),
        ("field", 33, 10),
        ("linear", 64, 10),
        ("linear", 33, 17),
    ],
)
def test_a_member_computes_the_same_in_any_population(
    kind, in_features, out_features, batch, dtype
):
    if kind == "linear":
        layers, stack = _linear_layers(in_features, out_features), stack_modules
    else:
        layers, stack = _landau_layers(in_features, out_features, kind), SeedBatchedLandauLayer
    layers = [layer.to(dtype) for layer in layers]
    names = ["output", "input gradient"] + [n for n, _ in stack([layers[2]]).named_parameters()]
    for draw in range(DRAWS):  # a fold-dependent rounding shows in some draws, not all
        g = torch.Generator().manual_seed(draw)
        x = torch.randn(MEMBERS, batch, in_features, generator=g, dtype=dtype)
        grad_out = torch.randn(MEMBERS, batch, out_features, generator=g, dtype=dtype)
        first = _member_results(layers, stack, x, grad_out, POPULATIONS[0], member=2)
        for population in POPULATIONS[1:]:
            got = _member_results(layers, stack, x, grad_out, population, member=2)
            for name, a, b in zip(names, first, got, strict=True):
                assert torch.equal(a, b), f"{name} of member 2 differs in {population}, draw {draw}"
