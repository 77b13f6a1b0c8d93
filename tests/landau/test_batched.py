"""Seed-batched nets against S sequential ones (the oracle): forward, loss, gradients, β updates
and BatchNorm statistics over a few training steps, for every model option the variants use."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baselines import PlainMLP
from landau import (
    ACTIVATIONS,
    AllenCahn,
    ExperimentalNet,
    GinzburgLandauLoss,
    LandauLayer,
    SeedBatchedLandauLayer,
    seed_cross_entropy,
    stack_modules,
    stack_nets,
    unstack_state_dict,
)

SEEDS, BATCH, FEATURES, HIDDEN, CLASSES = 3, 16, 6, 12, 4
# relative (norm) error allowed between batched and sequential: one step in float32 (summation
# order differs between bmm and mm), three steps in float64 (float32 rounding compounds along a
# trajectory: dL/dβ, a sum with cancellation, drifts to ~2e-5 by the third step)
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}
BLOG_LOSS = {"alpha": 0.0095, "gamma": 6.5}


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """|a - b| / |b|, with |b| floored at 1e-3: a bias feeding BatchNorm has a zero gradient in
    exact arithmetic, and its computed one is rounding noise in both nets."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm().clamp(min=1e-3))


def assert_equal_per_seed(
    batched: torch.Tensor,
    sequential: list[torch.Tensor],
    what: str,
    exact: list[torch.Tensor] | None = None,
):
    """batched[s] == sequential[s] within TOL; or, where float32 itself is less accurate than
    that (``exact``: the sequential result in float64), batched[s] is no farther from the
    exact value than twice the sequential float32 result is (some β and t gradients sum
    terms that cancel: the sequential float32 value is up to 7e-5 off float64 there)."""
    assert batched.shape == (len(sequential), *sequential[0].shape), what
    assert all(bool(torch.isfinite(r).all()) for r in sequential), f"{what}: oracle not finite"
    tol = TOL[batched.dtype] if batched.dtype in TOL else TOL[torch.float32]
    for s, ref in enumerate(sequential):
        err = relative_error(batched[s], ref)
        if err < tol:
            continue
        assert exact is not None, f"{what}, seed {s}: relative error {err:.2e}"
        float32_err = relative_error(ref, exact[s])
        batched_err = relative_error(batched[s], exact[s])
        assert batched_err <= max(tol, 2 * float32_err), (
            f"{what}, seed {s}: relative error {err:.2e} to sequential, {batched_err:.2e} to "
            f"float64 where sequential float32 has {float32_err:.2e}"
        )


def landau_nets(depth=2, beta_shape="scalar", activation="rrelu", beta_init=0.05):
    nets = []
    for s in range(SEEDS):
        torch.manual_seed(1000 + s)  # as the sequential run: its own seed before building
        net = ExperimentalNet(
            FEATURES,
            HIDDEN,
            CLASSES,
            beta_init,
            activation,
            depth,
            beta_shape=beta_shape,
        )
        with torch.no_grad():  # t != 1 and, for a field, distinct β per unit and per seed
            for layer in net.landau_layers.values():
                layer.t.fill_(0.7 + 0.1 * s)
                if beta_shape == "field":
                    layer.beta.add_(torch.linspace(-0.1, 0.1, layer.beta.numel()) * (s + 1))
        nets.append(net)
    return nets


def mlp_nets(depth=2, activation="rrelu"):
    nets = []
    for s in range(SEEDS):
        torch.manual_seed(2000 + s)
        nets.append(PlainMLP(FEATURES, HIDDEN, CLASSES, activation, depth))
    return nets


def data(steps=3, dtype=torch.float32):
    g = torch.Generator().manual_seed(7)
    x = torch.randn(steps, SEEDS, BATCH, FEATURES, generator=g, dtype=dtype) * 2  # (steps,S,B,F)
    y = torch.randint(0, CLASSES, (steps, SEEDS, BATCH), generator=g)
    return x, y


def train_sequential(net, xs, ys, loss_fn, beta_update, lr=0.02):
    """A few plain-SGD steps of one net, as the training loop does them; returns per-step
    (output, loss, terms, per_unit, grads)."""
    history = []
    field = getattr(getattr(net, "output_layer", None), "beta_shape", None) == "field"
    for x, y in zip(xs, ys, strict=True):
        out = net(x)  # (B, C)
        if loss_fn is None:
            loss, terms, per_unit = F.cross_entropy(out, y), None, None
        else:
            loss, terms, per_unit = loss_fn.evaluate(out, y)
        params = [p for p in net.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.sub_(lr * g)
        if beta_update is not None:
            for layer in net.landau_layers.values():
                unit = per_unit if field and layer is net.output_layer else None
                beta_update.step(layer.beta, unit)
        history.append((out, loss, terms, per_unit, grads))
    return history


def train_batched(net, xs, ys, loss_fn, beta_update, lr=0.02):
    history = []
    field = getattr(getattr(net, "output_layer", None), "beta_shape", None) == "field"
    for x, y in zip(xs, ys, strict=True):
        out = net(x)  # (S, B, C)
        if loss_fn is None:
            loss, terms, per_unit = seed_cross_entropy(out, y), None, None
        else:
            loss, terms, per_unit = loss_fn.evaluate_seeds(out, y)
        params = [p for p in net.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss.sum(), params)  # each seed: its own loss's gradient
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.sub_(lr * g)
        if beta_update is not None:
            for layer in net.landau_layers.values():
                unit = per_unit if field and layer is net.output_layer else None
                beta_update.step_seeds(layer.beta, unit)
        history.append((out, loss, terms, per_unit, grads))
    return history


def check_training_equivalence(
    nets, loss_fn, beta_update, static_beta=False, dtype=torch.float32, steps=1
):
    nets = [net.to(dtype) for net in nets]
    if static_beta:  # as build_beta_update does: after building, before the optimizer
        for net in nets:
            for layer in net.landau_layers.values():
                layer.beta.requires_grad_(False)
    batched = stack_nets(nets)
    if static_beta:
        assert all(not m.beta.requires_grad for m in batched.landau_layers.values())
    xs, ys = data(steps, dtype)
    exact = None
    if dtype == torch.float32:  # the same runs in float64, to judge float32 rounding
        nets64 = [copy.deepcopy(net).double() for net in nets]
        exact = [
            train_sequential(net, xs[:, s].double(), ys[:, s], loss_fn, beta_update)
            for s, net in enumerate(nets64)
        ]
    seq = [
        train_sequential(net, xs[:, s], ys[:, s], loss_fn, beta_update)
        for s, net in enumerate(nets)
    ]
    bat = train_batched(batched, xs, ys, loss_fn, beta_update)
    for step, got in enumerate(bat):
        want = [seq[s][step] for s in range(SEEDS)]
        truth = None if exact is None else [exact[s][step] for s in range(SEEDS)]
        for k, name in enumerate(("output", "loss", "terms", "per_unit")):
            if got[k] is not None:
                assert_equal_per_seed(got[k], [w[k] for w in want], f"step {step} {name}")
        for i, g in enumerate(got[4]):
            ref = None if truth is None else [t[4][i] for t in truth]
            assert_equal_per_seed(g, [w[4][i] for w in want], f"step {step} gradient {i}", ref)
    # the final state (weights, β, BatchNorm running statistics) unstacks to the sequential one
    states = unstack_state_dict(batched.state_dict())
    for net, state in zip(nets, states, strict=True):
        assert state.keys() == net.state_dict().keys()
        for key, value in net.state_dict().items():
            assert state[key].shape == value.shape, key
            assert relative_error(state[key], value) < TOL[dtype], key
    return batched


GL_OPTIONS = {
    "full": {},
    "no_quartic": {"quartic": False},
    "no_spatial": {"spatial": False},
    "signed": {"absolute": False},
    "class_axis": {"spatial_dim": 1},
}
BETA_OPTIONS = {  # (beta_shape, Allen–Cahn settings or None for static β)
    "scalar-blog": ("scalar", {"diffusion": "blog"}),
    "scalar-static": ("scalar", None),
    "field-physical": ("field", {"diffusion": "physical", "kappa": 0.5}),
    "field-blog": ("field", {"diffusion": "blog", "kappa": 0.5}),
    "field-none": ("field", {"diffusion": "none"}),
    "field-static": ("field", None),
}


PRECISIONS = {"float32-1step": (torch.float32, 1), "float64-3steps": (torch.float64, 3)}


@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("beta", list(BETA_OPTIONS))
@pytest.mark.parametrize("loss", [*GL_OPTIONS, "ce"])
def test_landau_training_steps_equal_sequential(precision, depth, beta, loss):
    beta_shape, ac = BETA_OPTIONS[beta]
    nets = landau_nets(depth, beta_shape)
    loss_fn = None if loss == "ce" else GinzburgLandauLoss(**BLOG_LOSS, **GL_OPTIONS[loss])
    beta_update = None if ac is None else AllenCahn(dt=0.05, **ac)
    dtype, steps = PRECISIONS[precision]
    check_training_equivalence(nets, loss_fn, beta_update, ac is None, dtype, steps)


# every registered activation, a plugin's too (the default rrelu runs in every test above)
@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if a != "rrelu"])
def test_other_activations_equal_sequential(activation):
    nets = landau_nets(2, "scalar", activation)
    check_training_equivalence(nets, GinzburgLandauLoss(**BLOG_LOSS), AllenCahn(dt=0.05))
    check_training_equivalence(
        landau_nets(2, "scalar", activation),
        GinzburgLandauLoss(**BLOG_LOSS),
        AllenCahn(dt=0.05),
        dtype=torch.float64,
        steps=3,
    )


@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_plain_mlp_training_steps_equal_sequential(precision, depth, activation):
    dtype, steps = PRECISIONS[precision]
    check_training_equivalence(mlp_nets(depth, activation), None, None, dtype=dtype, steps=steps)


def test_generic_sequential_equals_sequential():
    nets = []
    for s in range(SEEDS):
        torch.manual_seed(s)
        nets.append(
            nn.Sequential(
                nn.Linear(FEATURES, HIDDEN),
                nn.BatchNorm1d(HIDDEN),
                nn.Tanh(),
                LandauLayer(HIDDEN, CLASSES, 0.1),
            )
        )
    batched = stack_modules(nets, {LandauLayer: SeedBatchedLandauLayer})
    x, _ = data(1)
    assert_equal_per_seed(batched(x[0]), [net(x[0, s]) for s, net in enumerate(nets)], "output")


@pytest.mark.parametrize("train", [True, False])
def test_eval_mode_uses_each_seeds_running_statistics(train):
    nets = landau_nets(2)
    with torch.no_grad():  # distinct running statistics per seed
        for s, net in enumerate(nets):
            net.bn1.running_mean.normal_(generator=torch.Generator().manual_seed(s))
            net.bn1.running_var.uniform_(0.5, 2.0, generator=torch.Generator().manual_seed(s))
    batched = stack_nets(nets).train(train)
    for net in nets:
        net.train(train)
    x, _ = data(1)
    assert_equal_per_seed(batched(x[0]), [net(x[0, s]) for s, net in enumerate(nets)], "output")


def test_parameters_keep_the_sequential_names_order_and_shapes():
    nets = landau_nets(2, "field")
    batched = stack_nets(nets)
    got = [(n, tuple(p.shape)) for n, p in batched.named_parameters()]
    want = [(n, (SEEDS, *p.shape)) for n, p in nets[0].named_parameters()]
    assert got == want
    buffers = {n: tuple(b.shape) for n, b in batched.named_buffers() if not n.endswith("idx")}
    assert buffers == {
        n: (SEEDS, *b.shape) for n, b in nets[0].named_buffers() if not n.endswith("idx")
    }
    assert list(batched.landau_layers) == ["llayer1", "llayer2"]
    assert batched.output_layer is batched.llayer2


def test_stacking_copies_and_leaves_the_nets_alone():
    nets = landau_nets(2)
    before = [{k: v.clone() for k, v in n.state_dict().items()} for n in nets]
    batched = stack_nets(nets)
    with torch.no_grad():
        batched.llayer1.w.add_(1.0)
    for net, state in zip(nets, before, strict=True):
        for key, value in net.state_dict().items():
            torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    assert isinstance(nets[0].llayer1, LandauLayer)


def test_unstacked_state_dicts_load_strictly_into_the_ordinary_net():
    nets = landau_nets(2)
    states = unstack_state_dict(stack_nets(nets).state_dict())
    fresh = ExperimentalNet(FEATURES, HIDDEN, CLASSES)
    fresh.load_state_dict(states[1], strict=True)
    x = torch.randn(5, FEATURES)
    torch.testing.assert_close(fresh(x), nets[1](x), rtol=0, atol=0)


def test_a_diverged_seed_leaves_the_others_alone():
    nets = landau_nets(2)
    with torch.no_grad():
        nets[0].llayer1.beta.fill_(200.0)  # cosh(1000): seed 0 diverges
    batched = stack_nets(nets)
    x, y = data(1)
    losses, _, _ = GinzburgLandauLoss(**BLOG_LOSS).evaluate_seeds(batched(x[0]), y[0])
    losses.sum().backward()
    assert not torch.isfinite(losses[0])
    assert torch.isfinite(losses[1:]).all()
    for p in batched.parameters():
        assert torch.isfinite(p.grad[1:]).all()


@pytest.mark.parametrize(
    "shape, ac",
    [
        ((SEEDS,), AllenCahn(dt=0.1)),
        ((SEEDS, 7), AllenCahn(dt=0.1, kappa=0.3, diffusion="physical")),
    ],
)
def test_allen_cahn_step_seeds_equals_step_per_seed(shape, ac):
    g = torch.Generator().manual_seed(3)
    beta = torch.randn(shape, generator=g)
    unit = torch.randn(shape, generator=g) if len(shape) == 2 else None
    want = [ac.step(beta[s].clone(), None if unit is None else unit[s]) for s in range(SEEDS)]
    assert_equal_per_seed(ac.step_seeds(beta.clone(), unit), want, "β")


def test_seed_cross_entropy_is_the_mean_over_each_seeds_batch():
    x, y = torch.randn(SEEDS, BATCH, CLASSES), torch.randint(0, CLASSES, (SEEDS, BATCH))
    assert_equal_per_seed(
        seed_cross_entropy(x, y), [F.cross_entropy(x[s], y[s]) for s in range(SEEDS)], "CE"
    )


@pytest.mark.parametrize("module", [nn.Dropout(0.1), nn.RReLU()])
def test_random_modules_are_refused(module):
    nets = [nn.Sequential(nn.Linear(3, 3), module) for _ in range(2)]
    with pytest.raises(ValueError, match="draws random numbers"):
        stack_modules(nets)


def test_unknown_leaves_and_mismatched_nets_are_refused():
    with pytest.raises(ValueError, match="no seed-batched version of Conv1d; known: Linear"):
        stack_modules([nn.Sequential(nn.Conv1d(1, 1, 1)) for _ in range(2)])
    with pytest.raises(ValueError, match="in_features, out_features, beta_shape"):
        stack_nets([ExperimentalNet(4, 3, 2), ExperimentalNet(4, 5, 2)])
    with pytest.raises(ValueError, match="requires_grad"):
        nets = [ExperimentalNet(4, 3, 2) for _ in range(2)]
        nets[0].llayer1.beta.requires_grad_(False)
        stack_nets(nets)
    with pytest.raises(ValueError, match="one type"):
        stack_modules([nn.Linear(2, 2), nn.Identity()])


def test_bad_batched_input_raises():
    layer = stack_nets(landau_nets(1)).llayer1
    with pytest.raises(ValueError, match=rf"shape \({SEEDS}, batch, {FEATURES}\)"):
        layer(torch.randn(SEEDS + 1, 2, FEATURES))
    with pytest.raises(ValueError, match="phi must have shape"):
        GinzburgLandauLoss(**BLOG_LOSS).evaluate_seeds(torch.randn(4, 3), torch.zeros(4).long())


@pytest.mark.parametrize("beta", [1e-3, 0.3, -0.2])
def test_batched_scalar_function_gradcheck(beta):
    from landau.layer import _LandauScalarSeedsFn

    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(2, 3, 5, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.tensor([beta, -beta / 2], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[0.7], [1.3]], dtype=torch.float64, requires_grad=True)
    idx = torch.arange(5, dtype=torch.float64)[None]
    for frozen in itertools.product([True, False], repeat=2):
        x.requires_grad_(frozen[0])
        t.requires_grad_(frozen[1])
        assert torch.autograd.gradcheck(_LandauScalarSeedsFn.apply, (x, w, b, t, idx))
