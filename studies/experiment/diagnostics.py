"""Loss-landscape diagnostics of a trained torch run (Sagun et al., "Empirical Analysis of the
Hessian of Over-Parametrized Neural Networks"; Li et al., "Measuring the Intrinsic Dimension of
Objective Landscapes"): the top eigenvalue of the training loss's Hessian (``sharpness``) and
Hutchinson's estimate of its trace, at the final weights on a fixed training subset.

    sharpness = λ_max(H),   H = ∇²_θ L(θ)       (Lanczos on Hessian-vector products)
    trace(H) ≈ (1/P) Σ_p z_pᵀ H z_p,  z_p ∈ {−1, +1}^n   (Rademacher probes; exact for diagonal H)

Hessian-vector products are central differences of autograd gradients in float64,
``Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε`` (exact for a quadratic up to rounding): the Landau
layer's fused backward is first-order only (``once_differentiable``), so double backward is not
available; in float64 with ε = 1e-4 the rounding error is ~1e-12 relative.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from studies.experiment.config import DiagnosticsBudget

__all__ = ["Landscape", "hessian_diagnostics", "landscape", "population_landscape"]

_EPS = 1e-4
SUBSET_SEED = 0  # the subset's indices depend on the split only, so runs are comparable


@dataclass(frozen=True)
class Landscape:
    sharpness: float | None  # top Hessian eigenvalue
    hessian_trace: float | None  # Hutchinson's estimate
    seconds: float = math.nan


def _flat_grad(loss_fn: Callable[[], Tensor], params: Sequence[Tensor]) -> Tensor:
    grads = torch.autograd.grad(loss_fn(), params, allow_unused=True)
    pairs = zip(params, grads, strict=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in pairs])


def _hvp_fn(loss_fn: Callable[[], Tensor], params: Sequence[Tensor]):
    """v (n,) -> H v (n,), by central differences of the gradient around the current θ."""
    theta = [p.detach().clone() for p in params]

    def shift(v: Tensor, step: float) -> None:
        offset = 0
        with torch.no_grad():
            for p, p0 in zip(params, theta, strict=True):
                n = p.numel()
                p.copy_(p0 + step * v[offset : offset + n].view_as(p))
                offset += n

    def hvp(v: Tensor) -> Tensor:
        shift(v, _EPS)
        plus = _flat_grad(loss_fn, params)
        shift(v, -_EPS)
        minus = _flat_grad(loss_fn, params)
        shift(v, 0.0)  # back to θ
        return (plus - minus) / (2 * _EPS)

    return hvp


def _lanczos_top(hvp, n: int, iterations: int, generator: torch.Generator, dtype) -> float:
    """Largest eigenvalue of the symmetric operator ``hvp`` (Lanczos, full reorthogonalisation)."""
    v = torch.randn(n, generator=generator, dtype=dtype)
    v /= v.norm()
    basis, alphas, betas = [v], [], []
    w = hvp(v)
    for j in range(min(iterations, n)):
        a = float(w @ basis[-1])
        alphas.append(a)
        if not math.isfinite(a):
            break
        w = w - a * basis[-1] - (betas[-1] * basis[-2] if betas else 0.0)
        for q in basis:  # full reorthogonalisation: k is small, stability matters more
            w = w - (w @ q) * q
        b = float(w.norm())
        if j == min(iterations, n) - 1 or b < 1e-10 * max(1.0, abs(a)):
            break
        betas.append(b)
        basis.append(w / b)
        w = hvp(basis[-1])
    k = len(alphas)
    if not np.isfinite(alphas).all() or not np.isfinite(betas).all():
        return math.nan  # a non-finite Hessian-vector product (e.g. a loss that overflowed)
    t = np.diag(alphas) + np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
    return float(np.linalg.eigvalsh(t)[-1])


def hessian_diagnostics(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    *,
    iterations: int = 20,
    probes: int = 10,
    generator: torch.Generator | None = None,
) -> tuple[float | None, float | None]:
    """(top eigenvalue, Hutchinson trace) of the Hessian of ``loss_fn()`` in ``params``, which are
    moved during the computation and restored; None for a quantity whose budget is 0."""
    params = [p for p in params if p.requires_grad]
    if not params:
        return None, None
    generator = generator or torch.Generator().manual_seed(0)
    dtype = params[0].dtype
    n = sum(p.numel() for p in params)
    hvp = _hvp_fn(loss_fn, params)
    top = _lanczos_top(hvp, n, iterations, generator, dtype) if iterations > 0 else None
    trace = None
    if probes > 0:
        total = 0.0
        for _ in range(probes):
            z = torch.randint(0, 2, (n,), generator=generator).to(dtype) * 2 - 1
            total += float(z @ hvp(z))
        trace = total / probes
    return top, trace


def landscape(
    model: nn.Module,
    loss: Callable[[Tensor, Tensor], Tensor],
    x_train: Tensor,
    y_train: Tensor,
    *,
    batch_size: int,
    budget: DiagnosticsBudget,
    seed: int,
) -> Landscape:
    """The diagnostics of ``model`` (left untouched: a float64 copy is probed) on a fixed subset
    of the training split: the training loss as training computes it (train mode, the mean of
    the per-batch losses over consecutive batches of ``batch_size``)."""
    import time

    if budget.iterations == 0 and budget.probes == 0:
        return Landscape(None, None)
    start = time.perf_counter()
    n = min(budget.subset, len(y_train))
    pick = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n]
    x = x_train[pick.to(x_train.device)].double()  # (n, F)
    y = y_train[pick.to(y_train.device)]
    probe = copy.deepcopy(model).double().train()  # BatchNorm's running stats change in the copy
    # batches of at least 2 samples (BatchNorm); the last short one joins the one before
    bounds = list(range(0, n, batch_size))
    if n - bounds[-1] < 2 and len(bounds) > 1:
        bounds.pop()
    chunks = [(a, b) for a, b in zip(bounds, [*bounds[1:], n], strict=True)]

    def loss_fn() -> Tensor:
        return sum(loss(probe(x[a:b]), y[a:b]) for a, b in chunks) / len(chunks)

    top, trace = hessian_diagnostics(
        loss_fn,
        list(probe.parameters()),
        iterations=budget.iterations,
        probes=budget.probes,
        generator=torch.Generator().manual_seed(seed),
    )
    bad = lambda v: v is None or not math.isfinite(v)  # noqa: E731
    return Landscape(
        None if bad(top) else top,
        None if bad(trace) else trace,
        time.perf_counter() - start,
    )


def _member_flat_grad(loss_fn: Callable[[], Tensor], params: Sequence[Tensor]) -> Tensor:
    """(P, n): each member's gradient of its own loss (loss_fn() -> (P,)), flattened."""
    grads = torch.autograd.grad(loss_fn().sum(), params, allow_unused=True)
    members = params[0].shape[0]
    pairs = zip(params, grads, strict=True)
    return torch.cat(
        [(torch.zeros_like(p) if g is None else g).reshape(members, -1) for p, g in pairs], dim=1
    )


def _member_hvp_fn(loss_fn: Callable[[], Tensor], params: Sequence[Tensor]):
    """v (P, n) -> H_s v_s for every member s, by central differences (as ``_hvp_fn``)."""
    theta = [p.detach().clone() for p in params]

    def shift(v: Tensor, step: float) -> None:
        offset = 0
        with torch.no_grad():
            for p, p0 in zip(params, theta, strict=True):
                n = p[0].numel()
                p.copy_(p0 + step * v[:, offset : offset + n].reshape(p.shape))
                offset += n

    def hvp(v: Tensor) -> Tensor:
        shift(v, _EPS)
        plus = _member_flat_grad(loss_fn, params)
        shift(v, -_EPS)
        minus = _member_flat_grad(loss_fn, params)
        shift(v, 0.0)  # back to θ
        return (plus - minus) / (2 * _EPS)

    return hvp


def _rows_dot(a: Tensor, b: Tensor) -> Tensor:
    return (a * b).sum(dim=1, keepdim=True)  # (P, 1): each member's own reduction


def _member_lanczos_top(hvp, n: int, iterations: int, gens, dtype, device) -> list[float]:
    """``_lanczos_top`` for P members at once; member s stops where it would stop alone."""
    v = torch.stack([torch.randn(n, generator=g, dtype=dtype) for g in gens]).to(device)
    v = v / v.norm(dim=1, keepdim=True)  # (P, n)
    members = len(gens)
    basis, alphas, betas = [v], [[] for _ in gens], [[] for _ in gens]
    active = [True] * members
    steps = min(iterations, n)
    b = None  # (P,) the previous step's norms
    w = hvp(v)
    for j in range(steps):
        a = _rows_dot(w, basis[-1])  # (P, 1)
        w = w - a * basis[-1]
        if b is not None:
            w = w - b[:, None] * basis[-2]
        for q in basis:  # full reorthogonalisation, per member
            w = w - _rows_dot(w, q) * q
        b = w.norm(dim=1)  # (P,)
        a_list, b_list = a.view(-1).tolist(), b.tolist()
        for s in range(members):
            if not active[s]:
                continue
            alphas[s].append(a_list[s])
            if not math.isfinite(a_list[s]):
                active[s] = False
            elif j == steps - 1 or b_list[s] < 1e-10 * max(1.0, abs(a_list[s])):
                active[s] = False
            else:
                betas[s].append(b_list[s])
        if not any(active):
            break
        # a stopped member's row keeps moving harmlessly (guarded against 0/0 by the floor)
        basis.append(w / b.clamp(min=torch.finfo(dtype).tiny)[:, None])
        w = hvp(basis[-1])
    tops = []
    for s in range(members):
        k = len(alphas[s])
        if not np.isfinite(alphas[s]).all() or not np.isfinite(betas[s]).all():
            tops.append(math.nan)
            continue
        bs = betas[s][: k - 1]
        t = np.diag(alphas[s]) + np.diag(bs, 1) + np.diag(bs, -1)
        tops.append(float(np.linalg.eigvalsh(t)[-1]))
    return tops


def population_landscape(
    model: nn.Module,
    losses: Callable[[Tensor, Tensor], Tensor],
    x_train: Tensor,
    y_train: Tensor,
    split: Tensor,
    *,
    batch_size: int,
    budget: DiagnosticsBudget,
    seeds: Sequence[int],
) -> list[Landscape]:
    """:func:`landscape` for every member of a population model at once: x_train (U, N, F),
    y_train (U, N) the distinct training splits, split (P,) each member's, and
    ``losses(out (P, B, C), y (P, B)) -> (P,)``
    in float64. Member s's Hessian-vector products, Lanczos steps and probes are its own (one
    generator per member, seeded as alone); one forward and backward pass serves all members."""
    import time

    members = len(seeds)
    if budget.iterations == 0 and budget.probes == 0:
        return [Landscape(None, None) for _ in range(members)]
    start = time.perf_counter()
    n = min(budget.subset, y_train.shape[1])
    pick = torch.randperm(y_train.shape[1], generator=torch.Generator().manual_seed(SUBSET_SEED))
    rows, cols = split.unsqueeze(1), pick[:n].to(x_train.device).unsqueeze(0)
    x, y = x_train[rows, cols].double(), y_train[rows, cols]  # (P, n, F), (P, n)
    probe = copy.deepcopy(model).double().train()
    bounds = list(range(0, n, batch_size))
    if n - bounds[-1] < 2 and len(bounds) > 1:
        bounds.pop()
    chunks = [(a, b) for a, b in zip(bounds, [*bounds[1:], n], strict=True)]

    def loss_fn() -> Tensor:  # (P,)
        return sum(losses(probe(x[:, a:b]), y[:, a:b]) for a, b in chunks) / len(chunks)

    params = [p for p in probe.parameters() if p.requires_grad]
    if not params:
        return [Landscape(None, None) for _ in range(members)]
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    size = sum(p[0].numel() for p in params)
    hvp = _member_hvp_fn(loss_fn, params)
    tops: list[float | None] = [None] * members
    if budget.iterations > 0:
        tops = _member_lanczos_top(hvp, size, budget.iterations, gens, torch.float64, x.device)
    traces: list[float | None] = [None] * members
    if budget.probes > 0:
        total = torch.zeros(members, 1, dtype=torch.float64, device=x.device)
        for _ in range(budget.probes):
            z = torch.stack([torch.randint(0, 2, (size,), generator=g) for g in gens])
            z = z.to(torch.float64).to(x.device) * 2 - 1  # (P, n) Rademacher
            total = total + _rows_dot(z, hvp(z))
        traces = (total.view(-1) / budget.probes).tolist()
    bad = lambda v: v is None or not math.isfinite(v)  # noqa: E731
    seconds = (time.perf_counter() - start) / members
    return [
        Landscape(None if bad(t) else t, None if bad(h) else h, seconds)
        for t, h in zip(tops, traces, strict=True)
    ]
