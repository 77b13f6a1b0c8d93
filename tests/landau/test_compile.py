"""The model under torch.compile: no graph breaks (no host syncs such as ``.item()``), and the
compiled training step computes what the eager one does."""

from __future__ import annotations

import shutil

import pytest
import torch

from landau import ExperimentalNet, GinzburgLandauLoss, stack_nets

LOSS = GinzburgLandauLoss(0.0095, 6.5)


def scalar_net(depth: int, seed: int = 0) -> ExperimentalNet:
    torch.manual_seed(seed)
    return ExperimentalNet(5, 8, 3, depth=depth)


def step_inputs(seeds: int | None):
    g = torch.Generator().manual_seed(0)
    lead = () if seeds is None else (seeds,)
    return torch.randn(*lead, 16, 5, generator=g), torch.randint(0, 3, (*lead, 16), generator=g)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("seeds", [None, 3], ids=["one-net", "seed-batched"])
def test_forward_and_loss_trace_without_graph_breaks(depth, seeds):
    if seeds is None:
        net = scalar_net(depth)

        def forward_loss(x, y):
            return LOSS(net(x), y) + LOSS.evaluate(net(x), y)[0]

    else:
        net = stack_nets([scalar_net(depth, s) for s in range(seeds)])

        def forward_loss(x, y):
            return LOSS.evaluate_seeds(net(x), y)[0].sum()

    explanation = torch._dynamo.explain(forward_loss)(*step_inputs(seeds))
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="inductor on CPU needs a C++ compiler")
def test_compiled_training_step_equals_eager():
    net = scalar_net(2)

    def step(x, y):
        return LOSS.evaluate(net(x), y)[0]

    x, y = step_inputs(None)
    eager_loss = step(x, y)
    eager_grads = torch.autograd.grad(eager_loss, list(net.parameters()))
    compiled = torch.compile(step, fullgraph=True, dynamic=False)
    loss = compiled(x, y)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    torch.testing.assert_close(loss, eager_loss, rtol=1e-5, atol=1e-7)
    for got, want in zip(grads, eager_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
