"""Speed of the Landau layer and the Langevin optimizer, as ratios to references run alongside.

(a) LandauLayer forward+backward vs nn.Linear of the same shape (batch 64, 784 -> 156).
    Input requiring grad (a hidden layer): both need 3 matmuls. Input not requiring grad (a first
    layer): Linear needs 2, Landau 3 (dL/dβ needs dL/dx-like G @ w), so ~1.5x is the floor there.
(b) The blog's per-sample weights (a (B, out, in) tensor) vs LandauLayer: speed-up.
(c) Langevin.step vs torch.optim.SGD(momentum).step on the 784-156-10 ExperimentalNet; at T > 0
    also vs "SGD step + torch.randn of the same total size": the Gaussian draws dominate on CPU.
(d) Drawing the next step's noise ahead of time (issue 10), on a whole training step (forward,
    backward, step) at the blog's settings, against Langevin drawing it inside step(): once at
    the end of the previous step on the same thread, and once on a helper thread that overlaps
    the next forward/backward. Both draw the same values (checked first). Kept in Langevin only
    if it helps; see the ratios.
(e) 5 seeds as one seed-batched net (landau.stack_nets) vs 1 seed: forward + loss + backward at
    batch 64, moons (2 -> 156 -> 2), digits (64 -> 156 -> 10) and MNIST (784 -> 156 -> 10) size.
    Goal <= 1.5x on moons and digits (5 sequential seeds cost 5x); at MNIST size the products
    dominate and 5 seeds cost ~5x their FLOPs, so only the overhead can be saved there.
(f) The GL loss's training pass (GinzburgLandauLoss.evaluate: one Function, hand-written
    backward) vs the same loss through the autograd graph of loss_density.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor

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
    _noise,
    loss_density,
    seed_cross_entropy,
    stack_nets,
)
from landau.optim import _multi_tensor_langevin

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


class NoiseAhead(Langevin):
    """A prototype: step n uses noise drawn at the end of step n - 1 (the same generator and draw
    order, so the same values while the set of parameters with gradients stays the same), drawn
    on the calling thread or on a helper thread. One param group, float lr, foreach path."""

    def __init__(self, params, *, helper: ThreadPoolExecutor | None = None, **kwargs) -> None:
        super().__init__(params, **kwargs)
        self.helper = helper
        self.ahead: Future | list[torch.Tensor] | None = None

    def _draw(self, params):
        shapes = [p.detach() for p in params]
        if self.helper is None:
            return _noise.standard_normal(shapes, self.generator)
        return self.helper.submit(_noise.standard_normal, shapes, self.generator)

    @torch.no_grad()
    def step(self, closure=None):
        (group,) = self.param_groups
        params, grads, velocities = [], [], []
        self._init_group(group, params, grads, velocities)
        ahead = self._draw(params) if self.ahead is None else self.ahead
        noise = ahead.result() if isinstance(ahead, Future) else ahead
        _multi_tensor_langevin(
            params, grads, velocities, noise, lr=group["lr"], damping=group["damping"],
            temperature=group["temperature"], weight_decay=0.0, maximize=False,
        )  # fmt: skip
        self.ahead = self._draw(params)


def training_step(optimizer_factory):
    """One forward/backward/step of the 784-156-10 net on a batch of 64 (blog settings)."""
    torch.manual_seed(0)
    net = ExperimentalNet(784, 156, 10)
    opt = optimizer_factory(net.parameters())
    x, y = torch.randn(BATCH, 784), torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    return net, step


def langevin_factory(cls=Langevin, **kwargs):
    def make(params):
        return cls(params, **BLOG, generator=torch.Generator().manual_seed(0), **kwargs)

    return make


@pytest.mark.benchmark(group="langevin-noise-ahead")
@pytest.mark.parametrize("where", ["same-thread", "helper-thread"])
def test_noise_drawn_ahead_vs_in_step(compare, monkeypatch, where):
    helper = None
    if where == "helper-thread":
        helper = ThreadPoolExecutor(max_workers=1)
        # the calling thread's CPU time would leave out the helper's draws: count the process's
        monkeypatch.setattr(sys.modules[compare.__module__], "CLOCK", time.process_time)
    try:
        ahead_net, ahead_step = training_step(langevin_factory(NoiseAhead, helper=helper))
        ref_net, ref_step = training_step(langevin_factory())
        for _ in range(3):  # the same trajectory: the measurement compares equal work
            ahead_step()
            ref_step()
        for p, q in zip(ahead_net.parameters(), ref_net.parameters(), strict=True):
            assert torch.equal(p, q)
        compare(
            ahead_step,
            ref_step,
            rounds=300,
            target="< 0.95x to keep it",
            reference_name="Langevin, noise drawn in step()"
            + (" [process_time]" if helper else ""),
        )
    finally:
        if helper is not None:
            helper.shutdown()


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
