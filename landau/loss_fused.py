"""The GL loss of the training step as one autograd Function with a hand-written backward.

Same value as :mod:`landau.loss` (loss, term means, per-unit energy) in one forward pass; the
backward is the chain rule written out, a dozen tensor ops instead of the autograd graph's ~30:

    G    = dL/dphi_norm = g [q (2 alpha d - 4 gamma k d^3) + s (phi_x[i-1] - phi_x[i+1]) / 2] / N
    dL/dphi = G / m - (sum_c G phi) / m^2 * sign(phi) * [|phi| = m] / #ties

with g = sign(value) (d|v|/dv, 0 at 0) or 1, N = B C, m the row max of |phi| (1 for an all-zero
row, as in the reference), q, k, s the 0/1 switches of the three terms. Ties of the row max share
its gradient equally, as torch's amax backward does.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def _ahead_minus_behind(v: Tensor, dim: int) -> Tensor:
    """v[i+1] - v[i-1] along ``dim``, with wrap-around: one cat, not two rolls (each a cat)."""
    n = v.shape[dim]
    ext = torch.cat([v.narrow(dim, n - 1, 1), v, v.narrow(dim, 0, 1)], dim=dim)  # n + 2
    return ext.narrow(dim, 2, n) - ext.narrow(dim, 0, n)


class _GLEvaluateFn(torch.autograd.Function):
    """(phi, target) -> (loss, term means, per-unit energy); only ``loss`` is differentiable.

    phi (..., B, C) with ``lead`` leading axes (0, or 1 for a seed axis); reductions over (B, C).
    """

    @staticmethod
    def forward(
        ctx,
        phi: Tensor,
        target: Tensor,
        alpha: float | Tensor,
        gamma: float | Tensor,
        switches: tuple[bool, bool, bool],
        spatial_dim: int,
        absolute: bool,
    ) -> tuple[Tensor, Tensor, Tensor]:
        quadratic, quartic, spatial = switches
        dims = (-2, -1)
        a_bc, g_bc = _per_sample(alpha), _per_sample(gamma)  # float, or (S, 1, 1) per member
        m = phi.abs().amax(dim=-1, keepdim=True)  # (..., B, 1)
        den = torch.where(m > 0, m, 1.0)
        pn = phi / den  # (..., B, C)
        index = target.unsqueeze(-1).long()  # (..., B, 1)
        d = pn.scatter(-1, index, pn.gather(-1, index) - 1.0)  # pn - one_hot(target)
        d2 = d * d
        d4 = d2 * d2
        px = _ahead_minus_behind(pn, spatial_dim).mul_(0.5)  # (..., B, C)
        px2 = px * px
        density = d2 * a_bc if quadratic else torch.zeros_like(d2)
        if quartic:  # per-member gamma: a product, then a difference (no fused kernel)
            if isinstance(gamma, Tensor):
                density = density.sub_(d4 * g_bc)
            else:
                density = density.sub_(d4, alpha=gamma)
        if spatial:
            density = density.add_(px2, alpha=0.5)
        value = density.mean(dim=dims)  # () or (S,)
        loss = value.abs() if absolute else value
        means = torch.stack(
            [d2.mean(dim=dims) * alpha, d4.mean(dim=dims) * gamma, px2.mean(dim=dims) * 0.5],
            dim=-1,
        )  # (..., 3)
        per_unit = density.mean(dim=-2)  # (..., C)
        ctx.save_for_backward(phi, m, den, d, d2, px, value)
        ctx.settings = (a_bc, g_bc, switches, spatial_dim, absolute)
        ctx.mark_non_differentiable(means, per_unit)
        ctx.set_materialize_grads(False)  # no zero tensors for the two statistics' gradients
        return loss, means, per_unit

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_loss: Tensor | None, _means: None, _per_unit: None):
        if grad_loss is None:
            return (None,) * 7
        phi, m, den, d, d2, px, value = ctx.saved_tensors
        alpha, gamma, (quadratic, quartic, spatial), spatial_dim, absolute = ctx.settings
        n = phi.shape[-1] * phi.shape[-2]
        scale = grad_loss * value.sign() if absolute else grad_loss  # () or (S,)
        scale = (scale / n).unsqueeze(-1).unsqueeze(-1)  # (..., 1, 1)
        if quadratic and quartic:
            grad_pn = d * (2.0 * alpha) - d2.mul_(d).mul_(4.0 * gamma)
        elif quadratic:
            grad_pn = d * (2.0 * alpha)
        elif quartic:
            grad_pn = d2.mul_(d).mul_(-4.0 * gamma)
        else:
            grad_pn = torch.zeros_like(d)
        if spatial:
            grad_pn = grad_pn.sub_(_ahead_minus_behind(px, spatial_dim), alpha=0.5)
        grad_pn = grad_pn.mul_(scale)  # (..., B, C)
        # through phi / m: the direct term and the row max (ties share its gradient)
        r = (grad_pn * phi).sum(dim=-1, keepdim=True).div_(den * den)  # (..., B, 1)
        at_max = phi.abs() == m  # (..., B, C)
        share = at_max.sum(dim=-1, keepdim=True)  # (..., B, 1)
        grad_phi = grad_pn.div_(den).sub_(phi.sign() * at_max * (r / share))
        return grad_phi, None, None, None, None, None, None


def _per_sample(value: float | Tensor) -> float | Tensor:
    """A coefficient as it multiplies (..., B, C): a float as is, a per-member (S,) as (S, 1, 1)."""
    return value.view(-1, 1, 1) if isinstance(value, Tensor) else value


def fused_evaluate(
    phi: Tensor,
    target: Tensor,
    *,
    alpha: float | Tensor,
    gamma: float | Tensor,
    quadratic: bool = True,
    quartic: bool = True,
    spatial: bool = True,
    spatial_dim: int = 0,
    absolute: bool = True,
) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, term means [quadratic, quartic, spatial], per-unit energy) of phi (..., B, C);
    ``spatial_dim`` is an axis of phi itself (the caller maps a per-seed axis). ``alpha`` and
    ``gamma`` may be per-member tensors (S,) when phi is (S, B, C)."""
    switches = (bool(quadratic), bool(quartic), bool(spatial))
    return _GLEvaluateFn.apply(phi, target, alpha, gamma, switches, spatial_dim, absolute)
