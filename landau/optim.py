"""Langevin-dynamics optimizer (the blog's LangevinLandauOptimizer, as a torch.optim.Optimizer).

For every parameter θ with gradient g = dL/dθ:

    v <- (1 - damping) v - lr g + sqrt(2 damping lr T) ξ,    ξ ~ N(0, 1)
    θ <- θ + v

At temperature 0 this is heavy-ball momentum: torch.optim.SGD(lr, momentum=1 - damping,
dampening=0) gives the same trajectory while lr is constant (SGD keeps lr out of its buffer).
Gradients come from the ordinary backward pass; the blog calls autograd.grad once per parameter
with create_graph=True, which is slower and keeps graphs alive for nothing.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def langevin(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    *,
    lr: float,
    damping: float,
    temperature: float,
    generator: torch.Generator | None,
) -> None:
    """Functional core: one Langevin step over lists of tensors, in place (foreach kernels)."""
    if not params:
        return
    torch._foreach_mul_(velocities, 1.0 - damping)
    torch._foreach_add_(velocities, grads, alpha=-lr)
    noise_scale = math.sqrt(2.0 * damping * lr * temperature)
    if noise_scale > 0.0:
        torch._foreach_add_(velocities, _gaussian_like(velocities, generator), alpha=noise_scale)
    torch._foreach_add_(params, velocities)


def _gaussian_like(tensors: list[Tensor], generator: torch.Generator | None) -> list[Tensor]:
    """Standard normal noise shaped like ``tensors``: one RNG call for the whole list when the
    tensors share dtype and device (the usual case), one per tensor otherwise."""
    first = tensors[0]
    if any(t.dtype != first.dtype or t.device != first.device for t in tensors):
        return [torch.empty_like(t).normal_(generator=generator) for t in tensors]
    sizes = [t.numel() for t in tensors]
    flat = torch.empty(sum(sizes), dtype=first.dtype, device=first.device).normal_(
        generator=generator
    )
    return [n.view_as(t) for n, t in zip(flat.split(sizes), tensors, strict=True)]


class Langevin(Optimizer):
    """Langevin dynamics with velocity, damping and temperature (update rule in the module doc)."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        damping: float = 0.1,
        temperature: float = 0.8,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        if not lr > 0:
            raise ValueError(f"`lr > 0` must hold, but got lr={lr!r}")
        if not 0 <= damping < 2:
            raise ValueError(f"`0 <= damping < 2` must hold, but got damping={damping!r}")
        if not temperature >= 0:
            raise ValueError(f"`temperature >= 0` must hold, but got temperature={temperature!r}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator or None, but got {generator!r}")
        defaults = {"lr": lr, "damping": damping, "temperature": temperature}
        super().__init__(params, defaults)
        self.generator = generator

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, velocities = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ValueError("Langevin does not support sparse gradients")
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p)
                grads.append(p.grad)
                velocities.append(state["velocity"])
            langevin(
                params,
                grads,
                velocities,
                lr=group["lr"],
                damping=group["damping"],
                temperature=group["temperature"],
                generator=self.generator,
            )
        return loss

    # The noise generator's state travels with the optimizer's, so a resumed run draws the
    # same noise as an uninterrupted one.
    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        if self.generator is not None:
            sd["generator_state"] = self.generator.get_state()
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        gen_state = state_dict.pop("generator_state", None)
        super().load_state_dict(state_dict)
        if gen_state is not None:
            if self.generator is None:
                self.generator = torch.Generator()
            self.generator.set_state(gen_state)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        gen = self.generator
        if gen is not None:
            state["_generator"] = (str(gen.device), gen.get_state())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        packed = state.pop("_generator", None)
        generator = None
        if packed is not None:
            generator = torch.Generator(device=packed[0])
            generator.set_state(packed[1])
        state.setdefault("generator", generator)
        super().__setstate__(state)
