"""Langevin-dynamics optimizer (the blog's LangevinLandauOptimizer, as a torch.optim.Optimizer).

For every parameter θ with gradient ∇L(θ):

    g <- ±∇L(θ) + weight_decay θ                    (− when maximize; L2 like torch.optim.SGD)
    v <- (1 - damping) v - lr g + sqrt(2 damping lr T) ξ,    ξ ~ N(0, 1)
    θ <- θ + v

At temperature 0 this is heavy-ball momentum: torch.optim.SGD(lr, momentum=1 - damping,
dampening=0) gives the same trajectory while lr is constant (SGD keeps lr out of its buffer).
A complex parameter is updated as its ``torch.view_as_real`` twin, noise included (T per real
degree of freedom). Gradients come from the ordinary backward pass; the blog calls autograd.grad
once per parameter with create_graph=True, which is slower and keeps graphs alive for nothing.

The noise order (landau/_noise.py) is one contract that foreach, the for-loop and batched seeds
all keep. With ``generator=[g_0, ..., g_{S-1}]`` every parameter carries a leading seed axis of
length S and seed s draws from g_s exactly what a Langevin over ``[p[s] for p in params]`` with
generator g_s would draw, so one batched optimizer and S sequential ones give the same parameters.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import _use_grad_for_differentiable

from landau import _noise

__all__ = ["Langevin", "blog_sequential_step", "langevin"]


def langevin(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    *,
    lr: float | Tensor,
    damping: float,
    temperature: float,
    weight_decay: float = 0.0,
    maximize: bool = False,
    foreach: bool | None = None,
    differentiable: bool = False,
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
) -> None:
    """Functional core: one Langevin step over lists of tensors, in place (equation in the
    module doc). ``foreach=None`` picks the multi-tensor path unless ``differentiable``."""
    if not params:
        return
    if foreach is None:
        foreach = not differentiable
    if foreach and differentiable:
        raise ValueError("`foreach` and `differentiable` cannot both be True")
    if isinstance(lr, Tensor) and not (differentiable and lr.requires_grad):
        lr = lr.item()  # one host read per step; keeps tensor-lr and float-lr runs identical
    elif isinstance(lr, Tensor):
        lr = lr.reshape(())  # (1,) or (1, 1) must not broadcast into the parameters
    if any(p.is_complex() for p in params):  # as real twins: each real degree of freedom gets T
        params, grads, velocities = (
            [torch.view_as_real(t) if t.is_complex() else t for t in ts]
            for ts in (params, grads, velocities)
        )
    noise = None
    if temperature > 0 and damping > 0:
        noise = _noise.standard_normal(params, generator)
    update = _multi_tensor_langevin if foreach else _single_tensor_langevin
    update(
        params,
        grads,
        velocities,
        noise,
        lr=lr,
        damping=damping,
        temperature=temperature,
        weight_decay=weight_decay,
        maximize=maximize,
    )


def _noise_scale(lr: float | Tensor, damping: float, temperature: float) -> float | Tensor:
    if isinstance(lr, Tensor):
        return (2.0 * damping * temperature * lr).sqrt()
    return math.sqrt(2.0 * damping * lr * temperature)


def _single_tensor_langevin(
    params, grads, velocities, noise, *, lr, damping, temperature, weight_decay, maximize
) -> None:
    """The reference path: the equation, one parameter at a time."""
    scale = _noise_scale(lr, damping, temperature)
    for i, (p, v) in enumerate(zip(params, velocities, strict=True)):
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        v.mul_(1.0 - damping)
        if isinstance(lr, Tensor):  # differentiable w.r.t. lr
            v.addcmul_(g, lr, value=-1)
        else:
            v.add_(g, alpha=-lr)
        if noise is not None:
            if isinstance(scale, Tensor):
                v.addcmul_(noise[i], scale)
            else:
                v.add_(noise[i], alpha=scale)
        p.add_(v)


def _multi_tensor_langevin(
    params, grads, velocities, noise, *, lr, damping, temperature, weight_decay, maximize
) -> None:
    """The same arithmetic with torch._foreach_* kernels, per (device, dtype) bucket."""
    scale = _noise_scale(lr, damping, temperature)
    buckets: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, p in enumerate(params):
        buckets.setdefault((p.device, p.dtype), []).append(i)
    for idx in buckets.values():
        if len(idx) == len(params):  # the usual case: one device, one dtype
            ps, vs, gs, ns = params, velocities, grads, noise
        else:
            ps, vs = [params[i] for i in idx], [velocities[i] for i in idx]
            gs = [grads[i] for i in idx]
            ns = None if noise is None else [noise[i] for i in idx]
        if maximize:
            gs = torch._foreach_neg(gs)
        if weight_decay != 0:
            gs = torch._foreach_add(gs, ps, alpha=weight_decay)
        torch._foreach_mul_(vs, 1.0 - damping)
        torch._foreach_add_(vs, gs, alpha=-lr)
        if noise is not None:
            torch._foreach_add_(vs, ns, alpha=scale)
        torch._foreach_add_(ps, vs)


def _check_hyperparameters(group: dict[str, Any]) -> None:
    lr = group["lr"]
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(
            "`lr.numel() == 1` must hold (Tensor lr must be 1-element), "
            f"but got lr of shape {tuple(lr.shape)}"
        )
    if not lr > 0:
        raise ValueError(f"`lr > 0` must hold, but got lr={lr!r}")
    damping, temperature = group["damping"], group["temperature"]
    if not 0 <= damping < 2:
        raise ValueError(f"`0 <= damping < 2` must hold, but got damping={damping!r}")
    if not temperature >= 0:
        raise ValueError(f"`temperature >= 0` must hold, but got temperature={temperature!r}")
    if not group["weight_decay"] >= 0:
        raise ValueError(
            f"`weight_decay >= 0` must hold, but got weight_decay={group['weight_decay']!r}"
        )
    if group["foreach"] and group["differentiable"]:
        raise ValueError(
            "`foreach` and `differentiable` cannot both be True; use foreach=None or False"
        )


class Langevin(Optimizer):
    """Langevin dynamics with velocity, damping and temperature:

        v <- (1 - damping) v - lr (±∇L + weight_decay θ) + sqrt(2 damping lr T) ξ,   θ <- θ + v

    ``generator``: a torch.Generator for the noise, or a sequence of S generators when every
    parameter carries a leading seed axis of length S (batched seeds; see the module doc).
    ``foreach=None`` uses the torch._foreach_* path unless ``differentiable``; ``foreach=False``
    is the for-loop reference, which draws the same noise and gives the same values.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        damping: float = 0.1,
        temperature: float = 0.8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        generator: torch.Generator | Sequence[torch.Generator] | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "damping": damping,
            "temperature": temperature,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        _check_hyperparameters(defaults)
        generator = _noise.check_generator(generator)
        super().__init__(params, defaults)
        self.generator: _noise.Generators = generator

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if isinstance(param_group, dict):  # torch.optim raises TypeError for anything else
            _check_hyperparameters({**self.defaults, **param_group})
        super().add_param_group(param_group)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # called by pickle/deepcopy (with "_generator") and by load_state_dict (without)
        packed = state.pop("_generator", None)
        super().__setstate__(state)
        if packed is not None or not hasattr(self, "generator"):
            self.generator = _noise.unpack(packed)
        for group in self.param_groups:  # state dicts from before these options existed
            group.setdefault("weight_decay", 0.0)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_generator"] = _noise.pack(self.generator)
        return state

    def _n_seeds(self) -> int | None:
        return len(self.generator) if isinstance(self.generator, list) else None

    def _init_group(self, group, params, grads, velocities) -> None:
        n_seeds = self._n_seeds()
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise ValueError("Langevin does not support sparse gradients")
            state = self.state[p]
            if "velocity" not in state:
                if n_seeds is not None and (p.dim() == 0 or p.shape[0] != n_seeds):
                    raise ValueError(
                        f"`p.shape[0] == {n_seeds}` must hold (a leading seed axis, one entry "
                        f"per generator), but got shape {tuple(p.shape)}"
                    )
                state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            velocities.append(state["velocity"])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Langevin step; ``closure`` (optional) re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params: list[Tensor] = []
            grads: list[Tensor] = []
            velocities: list[Tensor] = []
            self._init_group(group, params, grads, velocities)
            langevin(
                params,
                grads,
                velocities,
                lr=group["lr"],
                damping=group["damping"],
                temperature=group["temperature"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
                foreach=group["foreach"],
                differentiable=group["differentiable"],
                generator=self.generator,
            )
        return loss

    # The noise generators' states travel with the optimizer's, so a resumed run draws the same
    # noise as an uninterrupted one. They are in the dict before the post-hooks see it (and
    # restored before the load post-hooks run), so hooks see and may edit the whole state.
    def state_dict(self) -> dict[str, Any]:
        post_hooks = list(self._optimizer_state_dict_post_hooks.values())
        with self._hooks_off("_optimizer_state_dict_post_hooks"):
            state_dict = super().state_dict()
        if self.generator is not None:
            state_dict["generator_state"] = _noise.generator_state(self.generator)
        for hook in post_hooks:
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pre_hooks = list(self._optimizer_load_state_dict_pre_hooks.values())
        post_hooks = list(self._optimizer_load_state_dict_post_hooks.values())
        state_dict = state_dict.copy()  # shallow, as torch.optim does
        for hook in pre_hooks:
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        with self._hooks_off(
            "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"
        ):
            super().load_state_dict(state_dict)
        saved = state_dict.get("generator_state")
        self.generator = _noise.restore_generators(self.generator, saved)
        for hook in post_hooks:
            hook(self)

    @contextmanager
    def _hooks_off(self, *names: str) -> Iterator[None]:
        """Detach torch.optim's hook tables ``names`` (private attributes, stable since torch
        2.1) for the duration, so that this class can run those hooks itself, later."""
        saved = [getattr(self, name) for name in names]
        for name in names:
            setattr(self, name, OrderedDict())
        try:
            yield
        finally:
            for name, table in zip(names, saved, strict=True):
                setattr(self, name, table)


def blog_sequential_step(optimizer: Langevin, loss: Tensor, params: Sequence[Tensor]) -> None:
    """The blog's LangevinLandauOptimizer.step, in its order: for each parameter in turn, its
    gradient of ``loss`` by ``autograd.grad`` through the one forward graph, then its Langevin
    update through ``.data`` (no version bump, as in the blog). The graph's saved tensors alias
    the parameters, so later gradients read earlier parameters *already updated in this step*:
    with the blog's graph (LandauLayer ``graph="blog"``) β's and t's gradients use the new ``w``
    and BatchNorm's the new ``t`` of the layer after it. Noise is drawn per parameter in the same
    order. Uses the first parameter group's hyperparameters and the optimizer's velocities.
    """
    group = optimizer.param_groups[0]
    for p in params:
        (g,) = torch.autograd.grad(loss, p, retain_graph=True, allow_unused=True)
        if g is None:
            continue
        state = optimizer.state[p]
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        langevin(
            [p.data],
            [g],
            [state["velocity"]],
            lr=group["lr"],
            damping=group["damping"],
            temperature=group["temperature"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
            foreach=False,
            generator=optimizer.generator,
        )
