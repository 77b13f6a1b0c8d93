"""Speed of the Landau layer and the Langevin optimizer, as ratios to references run alongside.

(a) LandauLayer forward+backward vs nn.Linear of the same shape (batch 64, 784 -> 156).
    Input requiring grad (a hidden layer): both need 3 matmuls. Input not requiring grad (a first
    layer): Linear needs 2, Landau 3 (dL/dβ needs dL/dx-like G @ w), so ~1.5x is the floor there.
(b) The blog's per-sample weights (a (B, out, in) tensor) vs LandauLayer: speed-up.
(c) Langevin.step vs torch.optim.SGD(momentum).step on the 784-156-10 ExperimentalNet; at T > 0
    also vs "SGD step + torch.randn of the same total size": the Gaussian draws dominate on CPU.
(d) 5 seeds as one seed-batched net (landau.stack_nets) vs 1 seed: forward + loss + backward at
    batch 64, moons (2 -> 156 -> 2), digits (64 -> 156 -> 10) and MNIST (784 -> 156 -> 10) size.
    Goal <= 1.5x on moons and digits (5 sequential seeds cost 5x); at MNIST size the products
    dominate and 5 seeds cost ~5x their FLOPs, so only the overhead can be saved there.
(e) The GL loss's training pass (GinzburgLandauLoss.evaluate: one Function, hand-written
    backward) vs the same loss through the autograd graph of loss_density.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baselines import PlainMLP
from landau import (
    ExperimentalNet,
    GinzburgLandauLoss,
    LandauLayer,
    Langevin,
    loss_density,
    seed_cross_entropy,
    stack_nets,
)

BATCH, IN, OUT = 64, 784, 156
BLOG = {"lr": 1e-2, "damping": 1e-3, "temperature": 8e-3}  # the blog's table


def fwd_bwd(module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor):
    params = list(module.parameters()) + ([x] if x.requires_grad else [])

    def step():
        for p in params:  # as after zero_grad(set_to_none=True): no accumulation
            p.grad = None
        module(x).backward(grad_out)

    return step


@pytest.mark.benchmark(group="landau-layer-vs-linear")
@pytest.mark.parametrize("x_requires_grad", [True, False], ids=["hidden", "first"])
def test_layer_vs_linear(compare, x_requires_grad):
    torch.manual_seed(0)
    x = torch.randn(BATCH, IN, requires_grad=x_requires_grad)
    grad_out = torch.randn(BATCH, OUT)
    landau, linear = LandauLayer(IN, OUT, 0.3), nn.Linear(IN, OUT)
    floor = "" if x_requires_grad else " (3 vs 2 matmuls: ~1.5x floor)"
    compare(
        fwd_bwd(landau, x, grad_out),
        fwd_bwd(linear, x, grad_out),
        rounds=400,
        target="<= 1.3x" + floor,
        reference_name="nn.Linear",
    )


def blog_forward(layer: LandauLayer, x: torch.Tensor) -> torch.Tensor:
    """The blog's forward: per-sample weights w2 of shape (B, out, in)."""
    t_dynamic = layer.t * torch.sigmoid(torch.mean(x, dim=-1)).unsqueeze(-1)
    w2 = layer.w * (
        torch.arange(x.size(-1), dtype=torch.float) * torch.cosh(5 * layer.beta)
        + t_dynamic * torch.sinh(5 * layer.beta)
    ).unsqueeze(1)
    return torch.matmul(w2, x.unsqueeze(-1)).squeeze(-1)


@pytest.mark.benchmark(group="landau-layer-vs-blog")
def test_blog_formula_vs_layer(compare):
    torch.manual_seed(0)
    x = torch.randn(BATCH, IN)
    grad_out = torch.randn(BATCH, OUT)
    layer = LandauLayer(IN, OUT, 0.3)
    torch.testing.assert_close(blog_forward(layer, x), layer(x), rtol=1e-4, atol=1e-2)

    class Blog(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return blog_forward(self.layer, x)

    compare(
        fwd_bwd(Blog(), x, grad_out),
        fwd_bwd(layer, x, grad_out),
        rounds=15,
        warmup=3,
        repeats=(1, 10),  # the blog's 31 MB weight tensor flushes the caches: warm up the layer
        target=">= 50x (speed-up of LandauLayer)",
        reference_name="LandauLayer",
    )


def net_with_grads() -> nn.Module:
    torch.manual_seed(0)
    net = ExperimentalNet(784, 156, 10)
    net(torch.randn(BATCH, 784)).square().mean().backward()
    return net


@pytest.mark.benchmark(group="langevin-step")
@pytest.mark.parametrize("temperature", [BLOG["temperature"], 0.0], ids=["T=0.008", "T=0"])
def test_langevin_vs_sgd_momentum(compare, temperature):
    net, ref = net_with_grads(), net_with_grads()
    settings = {**BLOG, "temperature": temperature}
    opt = Langevin(net.parameters(), **settings, generator=torch.Generator().manual_seed(0))
    sgd = torch.optim.SGD(ref.parameters(), lr=BLOG["lr"], momentum=1 - BLOG["damping"])
    compare(
        opt.step,
        sgd.step,
        rounds=400,
        target="<= 1.5x",
        reference_name="SGD(momentum).step",
    )


@pytest.mark.benchmark(group="langevin-step")
def test_langevin_vs_sgd_momentum_plus_randn(compare):
    net, ref = net_with_grads(), net_with_grads()
    opt = Langevin(net.parameters(), **BLOG, generator=torch.Generator().manual_seed(0))
    sgd = torch.optim.SGD(ref.parameters(), lr=BLOG["lr"], momentum=1 - BLOG["damping"])
    numel = sum(p.numel() for p in ref.parameters())
    generator = torch.Generator().manual_seed(0)

    def sgd_and_noise():
        sgd.step()
        torch.randn(numel, generator=generator)

    compare(
        opt.step,
        sgd_and_noise,
        rounds=400,
        target="<= 1.5x",
        reference_name=f"SGD step + randn({numel})",
    )


SEEDS = 5
SIZES = {"moons": (2, 2), "digits": (64, 10), "mnist": (784, 10)}  # (features, classes)
MODELS = {"full-d2": ("landau", 2), "full-d1": ("landau", 1), "plain_mlp-d2": ("mlp", 2)}
GL = GinzburgLandauLoss(0.0095, 6.5)  # the blog's table


def _nets(kind: str, depth: int, features: int, classes: int) -> list[nn.Module]:
    nets = []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        if kind == "landau":
            nets.append(ExperimentalNet(features, 156, classes, depth=depth))
        else:
            nets.append(PlainMLP(features, 156, classes, depth=depth))
    return nets


def _train_step(net: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, seeds: bool):
    params = list(net.parameters())

    def step():
        for p in params:
            p.grad = None
        out = net(x)  # (S, B, C) or (B, C)
        if kind == "mlp":
            loss = seed_cross_entropy(out, y).sum() if seeds else F.cross_entropy(out, y)
        else:
            loss = GL.evaluate_seeds(out, y)[0].sum() if seeds else GL.evaluate(out, y)[0]
        loss.backward()

    return step


@pytest.mark.benchmark(group="seed-batch")
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("size", list(SIZES))
def test_five_seeds_batched_vs_one_seed(compare, size, model):
    features, classes = SIZES[size]
    kind, depth = MODELS[model]
    nets = _nets(kind, depth, features, classes)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(SEEDS, BATCH, features, generator=g)  # (S, B, F)
    y = torch.randint(0, classes, (SEEDS, BATCH), generator=g)  # (S, B)
    compare(
        _train_step(stack_nets(nets), x, y, kind, seeds=True),
        _train_step(nets[0], x[0], y[0], kind, seeds=False),
        rounds=150 if size == "mnist" else 300,
        target="<= 1.5x" if size != "mnist" else "(FLOP-bound: 5x the products)",
        reference_name="1 seed",
    )


@pytest.mark.benchmark(group="gl-loss")
@pytest.mark.parametrize("classes", [2, 10])
@pytest.mark.parametrize("seeds", [1, SEEDS])
def test_fused_gl_loss_vs_autograd_graph(compare, classes, seeds):
    g = torch.Generator().manual_seed(0)
    phi = torch.randn(seeds, BATCH, classes, generator=g).requires_grad_()  # (S, B, C)
    y = torch.randint(0, classes, (seeds, BATCH), generator=g)

    def fused():
        phi.grad = None
        GL.evaluate_seeds(phi, y)[0].sum().backward()

    def graph():  # the pre-fusion evaluate: autograd through loss_density
        phi.grad = None
        parts = loss_density(phi, y, alpha=GL.alpha, gamma=GL.gamma, seeds=True)
        density = parts["quadratic"] - parts["quartic"] + parts["spatial"]  # (S, B, C)
        density.mean(dim=(1, 2)).abs().sum().backward()
        with torch.no_grad():
            torch.stack([parts[k].mean(dim=(1, 2)) for k in parts], -1)
            density.mean(dim=1)

    compare(fused, graph, rounds=1000, target="< 1x", reference_name="autograd graph")
