"""Langevin dynamics for a population: every parameter carries a leading member axis of length
S, and member s has its own lr, damping and temperature (swept or tuned values training as one
model) and its own noise generator.

    v[s] <- (1 - damping[s]) v[s] - lr[s] g[s] + sqrt(2 damping[s] lr[s] T[s]) ξ[s]
    θ[s] <- θ[s] + v[s]

the update of ``landau.Langevin`` (see its docstring), written with per-member coefficients
(S, 1, ..., 1) and IEEE-exact products and sums only, so member s's arithmetic is the same
whatever the other members are (a population of one included). Noise is drawn for every member
in ``landau._noise``'s order, also where its temperature is 0 (its step then adds 0·ξ), so a
member draws the same numbers alone and among others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.optim import Optimizer

from landau import _noise

__all__ = ["PopulationLangevin"]


def _member_values(name: str, values: Sequence[float], members: int) -> list[float]:
    values = [float(v) for v in values]
    if len(values) != members:
        raise ValueError(f"`len({name}) == {members}` (one per member) must hold, but got {values}")
    return values


class PopulationLangevin(Optimizer):
    """Langevin over a population (module doc): ``lr``, ``damping``, ``temperature`` one value
    per member, ``generator`` one torch.Generator per member."""

    def __init__(
        self,
        params,
        lr: Sequence[float],
        damping: Sequence[float],
        temperature: Sequence[float],
        generator: Sequence[torch.Generator],
    ) -> None:
        generators = _noise.check_generator(list(generator))
        members = len(generators)
        lr = _member_values("lr", lr, members)
        damping = _member_values("damping", damping, members)
        temperature = _member_values("temperature", temperature, members)
        for s in range(members):
            if not lr[s] > 0:
                raise ValueError(f"`lr > 0` must hold, but got lr={lr[s]!r} (member {s})")
            if not 0 <= damping[s] < 2:
                raise ValueError(f"`0 <= damping < 2` must hold, but got damping={damping[s]!r}")
            if not temperature[s] >= 0:
                raise ValueError(
                    f"`temperature >= 0` must hold, but got temperature={temperature[s]!r}"
                )
        super().__init__(params, {})
        self.generator = generators
        # float64 arithmetic per member, then rounded once to the parameters' dtype (as a
        # Python float hyperparameter of landau.Langevin is)
        self._keep = [1.0 - d for d in damping]
        self._lr = lr
        self._scale = [
            math.sqrt(2.0 * d * a * t) for d, a, t in zip(damping, lr, temperature, strict=True)
        ]
        self._coefficients: dict[tuple, tuple[Tensor, Tensor, Tensor]] = {}

    def _member_coefficients(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        key = (p.dim(), p.dtype, p.device)
        if key not in self._coefficients:
            shape = (len(self.generator),) + (1,) * (p.dim() - 1)

            def make(values: list[float]) -> Tensor:
                return torch.tensor(values, dtype=p.dtype, device=p.device).view(shape)

            self._coefficients[key] = (make(self._keep), make(self._lr), make(self._scale))
        return self._coefficients[key]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        members = len(self.generator)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p.dim() == 0 or p.shape[0] != members:
                    raise ValueError(
                        f"`p.shape[0] == {members}` must hold (a leading member axis), "
                        f"but got shape {tuple(p.shape)}"
                    )
            noise = _noise.standard_normal(params, self.generator)
            for p, n in zip(params, noise, strict=True):
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                v = state["velocity"]
                keep, lr, scale = self._member_coefficients(p)
                v.mul_(keep).sub_(p.grad * lr).add_(n * scale)
                p.add_(v)
        return loss
