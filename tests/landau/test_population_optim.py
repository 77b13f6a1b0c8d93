"""PopulationLangevin against landau.Langevin run member by member (the oracle), and its
member invariance: a member's bits do not depend on the other members."""

from __future__ import annotations

import pytest
import torch

from landau import Langevin
from landau.population_optim import PopulationLangevin

LR, DAMPING, TEMPERATURE = [0.05, 0.01, 0.2], [0.1, 0.5, 0.05], [0.0, 0.01, 0.3]
SHAPES = [(5, 3), (7,), ()]


def _problem(members: int):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(members, *s, generator=gen) for s in SHAPES]
    grads = [[torch.randn(members, *s, generator=gen) for s in SHAPES] for _ in range(3)]
    return params, grads


def _population(params, grads, lr, damping, temperature, seeds):
    ps = [p.clone().requires_grad_() for p in params]
    opt = PopulationLangevin(
        ps, lr, damping, temperature, [torch.Generator().manual_seed(s) for s in seeds]
    )
    for step in grads:
        for p, g in zip(ps, step, strict=True):
            p.grad = g.clone()
        opt.step()
    return [p.detach() for p in ps]


def test_each_member_follows_langevin_with_its_own_values():
    params, grads = _problem(3)
    got = _population(params, grads, LR, DAMPING, TEMPERATURE, [10, 11, 12])
    for s in range(3):
        ps = [p[s].clone().requires_grad_() for p in params]
        gen = torch.Generator().manual_seed(10 + s)
        # the member draws noise even at T = 0; the oracle then draws the same (discarded) numbers
        opt = Langevin(ps, lr=LR[s], damping=DAMPING[s], temperature=TEMPERATURE[s], generator=gen)
        for step in grads:
            for p, g in zip(ps, step, strict=True):
                p.grad = g[s].clone()
            if TEMPERATURE[s] == 0:
                torch.empty(sum(p.numel() for p in ps)).normal_(generator=gen)
            opt.step()
        for p, want in zip(got, ps, strict=True):
            torch.testing.assert_close(p[s], want.detach(), rtol=1e-5, atol=1e-6)


def test_a_member_is_bitwise_the_same_alone_and_among_others():
    params, grads = _problem(3)
    together = _population(params, grads, LR, DAMPING, TEMPERATURE, [10, 11, 12])
    for s in range(3):
        alone = _population(
            [p[s : s + 1] for p in params],
            [[g[s : s + 1] for g in step] for step in grads],
            [LR[s]],
            [DAMPING[s]],
            [TEMPERATURE[s]],
            [10 + s],
        )
        for a, t in zip(alone, together, strict=True):
            assert torch.equal(a[0], t[s])


def test_bad_values_are_refused():
    p = [torch.zeros(2, 3, requires_grad=True)]
    gens = [torch.Generator(), torch.Generator()]
    with pytest.raises(ValueError, match="`lr > 0` must hold, but got lr=0.0"):
        PopulationLangevin(p, [0.1, 0.0], [0.1, 0.1], [0.1, 0.1], gens)
    with pytest.raises(ValueError, match=r"`len\(damping\) == 2`"):
        PopulationLangevin(p, [0.1, 0.1], [0.1], [0.1, 0.1], gens)
