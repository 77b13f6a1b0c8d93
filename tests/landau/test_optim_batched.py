"""One Langevin over parameters with a leading seed axis (generator=[g_0, ..., g_{S-1}]) against
S sequential Langevins, seed s with generator g_s (issue 10: batched seeds)."""

from __future__ import annotations

import copy

import pytest
import torch

from landau import Langevin

S = 3
SHAPES = [(4, 3), (4,), (2, 5), ()]  # per seed; the last one is a scalar parameter
KWARGS = {"lr": 0.05, "damping": 0.3, "temperature": 0.7, "weight_decay": 0.01}


def seed_params(s, dtypes):
    g = torch.Generator().manual_seed(1000 + s)
    pairs = zip(SHAPES, dtypes, strict=True)
    return [torch.randn(shape, generator=g, dtype=dtype) for shape, dtype in pairs]


def groups(params):
    # two groups with their own lr: the first two parameters, then the rest
    return [{"params": params[:2], "lr": 0.1}, {"params": params[2:]}]


def gradient(s, step, i, p):
    """A deterministic gradient for seed s: the same whether that seed runs alone or batched."""
    g = torch.Generator().manual_seed(10_000 * s + 100 * step + i)
    return torch.randn(p.shape, generator=g, dtype=p.dtype) + 0.5 * p.detach()


def run_sequential(steps, dtypes, **kwargs):
    out = []
    for s in range(S):
        params = [p.requires_grad_() for p in seed_params(s, dtypes)]
        opt = Langevin(groups(params), **KWARGS, **kwargs, generator=make_generators()[s])
        for step in range(steps):
            for i, p in enumerate(params):
                p.grad = gradient(s, step, i, p)
            opt.step()
        out.append(params)
    return out


def make_generators():
    return [torch.Generator().manual_seed(7 + 31 * s) for s in range(S)]


def batched_params(dtypes):
    per_seed = [seed_params(s, dtypes) for s in range(S)]
    return [torch.stack(ps).requires_grad_() for ps in zip(*per_seed, strict=True)]  # (S, ...)


def batched_step(opt, params, step):
    for i, p in enumerate(params):
        p.grad = torch.stack([gradient(s, step, i, p[s]) for s in range(S)])
    opt.step()


def run_batched(steps, dtypes, **kwargs):
    params = batched_params(dtypes)
    opt = Langevin(groups(params), **KWARGS, **kwargs, generator=make_generators())
    for step in range(steps):
        batched_step(opt, params, step)
    return params


FLOAT32 = [torch.float32] * len(SHAPES)
MIXED = [torch.float32, torch.float64, torch.float32, torch.float64]  # one draw per tensor


@pytest.mark.parametrize("dtypes", [FLOAT32, MIXED], ids=["one-dtype", "mixed-dtypes"])
@pytest.mark.parametrize("foreach", [None, False], ids=["foreach", "for-loop"])
def test_batched_seeds_equal_sequential_runs(dtypes, foreach):
    sequential = run_sequential(5, dtypes, foreach=foreach)
    batched = run_batched(5, dtypes, foreach=foreach)
    for i, p in enumerate(batched):
        for s in range(S):
            assert torch.equal(p[s], sequential[s][i]), (i, s)


def test_the_seeds_draw_different_noise():
    # a guard on the test above: equal streams would hide a generator mix-up
    batched = run_batched(1, FLOAT32)
    start = batched_params(FLOAT32)
    moved = [(p - q)[0] - (p - q)[1] for p, q in zip(batched, start, strict=True)]
    assert all(m.abs().max() > 0 for m in moved[:3])


def test_state_dict_saves_and_restores_every_seed_generator():
    straight = batched_params(FLOAT32)
    opt = Langevin(groups(straight), **KWARGS, generator=make_generators())
    for step in range(3):
        batched_step(opt, straight, step)
    saved_params = [p.detach().clone() for p in straight]
    saved = copy.deepcopy(opt.state_dict())
    assert len(saved["generator_state"]) == S
    for step in range(3, 6):
        batched_step(opt, straight, step)

    resumed = [p.requires_grad_() for p in saved_params]
    other = [torch.Generator().manual_seed(99 + s) for s in range(S)]  # must be overwritten
    opt2 = Langevin(groups(resumed), **KWARGS, generator=other)
    opt2.load_state_dict(saved)
    for step in range(3, 6):
        batched_step(opt2, resumed, step)
    for p, q in zip(straight, resumed, strict=True):
        assert torch.equal(p, q)


def test_a_copy_keeps_every_seed_generator():
    params = batched_params(FLOAT32)
    opt = Langevin(groups(params), **KWARGS, generator=make_generators())
    batched_step(opt, params, 0)
    twin = copy.deepcopy(opt)
    assert len(twin.generator) == S
    for g, h in zip(opt.generator, twin.generator, strict=True):
        assert g is not h and torch.equal(g.get_state(), h.get_state())


def test_a_parameter_without_the_seed_axis_is_refused():
    p = torch.zeros(S + 1, 2, requires_grad=True)
    p.grad = torch.ones_like(p)
    opt = Langevin([p], generator=make_generators())
    rule = r"`p.shape\[0\] == 3` must hold .*, but got shape \(4, 2\)"
    with pytest.raises(ValueError, match=rule):
        opt.step()


def test_loading_a_different_number_of_generators_is_refused():
    params = batched_params(FLOAT32)
    opt = Langevin(groups(params), **KWARGS, generator=make_generators())
    batched_step(opt, params, 0)
    two = Langevin(groups(batched_params(FLOAT32)), **KWARGS, generator=make_generators()[:2])
    with pytest.raises(ValueError, match="holds 3 generator states, but this optimizer has 2"):
        two.load_state_dict(opt.state_dict())
