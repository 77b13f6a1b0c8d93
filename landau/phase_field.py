"""Allen–Cahn update of β, as in the blog:

    β <- β + dt (β_t - s ε² Δβ + β - β³ + force),   force = -κ (L[i+1] - L[i-1]) / 2

Δβ[i] = β[i+1] - 2β[i] + β[i-1] is the periodic Laplacian over the output units, L the per-unit
loss, and s the diffusion sign: the blog writes ``- beta_xx`` (s = +1 below, anti-diffusion: the
backward heat equation, ill-posed — short-wavelength modes grow fastest); ``"physical"`` uses
``+ ε² Δβ`` (the real Allen–Cahn equation, an L2 gradient flow of the Ginzburg–Landau energy).

The blog's ``beta_t = (β - β.clone()) / dt`` is identically zero, so it is dropped here.

For the blog's *scalar* β, ``torch.roll`` of a 0-d tensor returns the tensor itself, so Δβ, the
force and β_t all vanish and the rule reduces to explicit Euler for dβ/dt = β - β³: β relaxes to
sign(β0) (to +1 from the blog's β0 = 1e-3), whatever the data or the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

DIFFUSIONS = ("blog", "physical", "none")


def laplacian(beta: Tensor) -> Tensor:
    """Periodic discrete Laplacian over the last axis; zero for a 0-d β."""
    if beta.dim() == 0:
        return torch.zeros_like(beta)
    return beta.roll(-1, -1) - 2.0 * beta + beta.roll(1, -1)


def central_difference(values: Tensor) -> Tensor:
    """(v[i+1] - v[i-1]) / 2 with wrap-around; zero for a 0-d tensor."""
    if values.dim() == 0:
        return torch.zeros_like(values)
    return (values.roll(-1, -1) - values.roll(1, -1)) / 2.0


def allen_cahn_rhs(
    beta: Tensor,
    *,
    kappa: float = 0.0,
    unit_loss: Tensor | None = None,
    diffusion: str = "blog",
    epsilon: float = 1.0,
    seeds: bool = False,
) -> Tensor:
    """dβ/dt of the update above (without dt).

    ``seeds=True``: β's first axis is a seed axis: β (S,) is S scalar βs, β (S, out) S fields,
    unit_loss (S, out); neighbours are taken within each seed's field only.
    """
    if diffusion not in DIFFUSIONS:
        raise ValueError(f"unknown diffusion {diffusion!r}; known: {', '.join(DIFFUSIONS)}")
    field = beta.dim() > (1 if seeds else 0)  # each seed's β has neighbours
    rhs = beta - beta.pow(3)
    if diffusion != "none" and field:  # a 0-d β has a zero Laplacian
        sign = -1.0 if diffusion == "blog" else 1.0
        rhs = rhs + sign * epsilon**2 * laplacian(beta)
    # a 0-d β has no neighbours: the blog's force is identically zero there
    if unit_loss is not None and kappa != 0.0 and field:
        if unit_loss.shape != beta.shape:
            raise ValueError(
                f"unit_loss must have β's shape {tuple(beta.shape)}, "
                f"but got {tuple(unit_loss.shape)}"
            )
        rhs = rhs - kappa * central_difference(unit_loss.detach())
    return rhs


@dataclass(frozen=True)
class AllenCahn:
    """Settings of the β update; ``step(beta, unit_loss)`` applies it in place."""

    dt: float = 1e-3
    kappa: float = 1e-2
    diffusion: str = "blog"
    epsilon: float = 1.0

    def __post_init__(self) -> None:
        if not self.dt > 0:
            raise ValueError(f"`dt > 0` must hold, but got dt={self.dt!r}")
        if not self.kappa >= 0:
            raise ValueError(f"`kappa >= 0` must hold, but got kappa={self.kappa!r}")
        if not self.epsilon > 0:
            raise ValueError(f"`epsilon > 0` must hold, but got epsilon={self.epsilon!r}")
        if self.diffusion not in DIFFUSIONS:
            raise ValueError(
                f"unknown diffusion {self.diffusion!r}; known: {', '.join(DIFFUSIONS)}"
            )

    @torch.no_grad()
    def step(self, beta: Tensor, unit_loss: Tensor | None = None) -> Tensor:
        """One explicit Euler step, in place on ``beta`` (a Parameter or tensor); returns it."""
        rhs = allen_cahn_rhs(
            beta,
            kappa=self.kappa,
            unit_loss=unit_loss,
            diffusion=self.diffusion,
            epsilon=self.epsilon,
        )
        beta.add_(rhs, alpha=self.dt)
        return beta

    @torch.no_grad()
    def step_seeds(
        self,
        beta: Tensor,
        unit_loss: Tensor | None = None,
        dt: Tensor | None = None,
        kappa: Tensor | None = None,
    ) -> Tensor:
        """:meth:`step` for S seeds at once, in place: β (S,) or (S, out), unit_loss (S, out).
        ``dt``, ``kappa``: per-member values (S,) in β's dtype, replacing the settings' (then
        the step is a product and a sum, dt·rhs rounded before it is added)."""
        if dt is None and kappa is None:
            rhs = allen_cahn_rhs(
                beta,
                kappa=self.kappa,
                unit_loss=unit_loss,
                diffusion=self.diffusion,
                epsilon=self.epsilon,
                seeds=True,
            )
            return beta.add_(rhs, alpha=self.dt)
        members = beta.shape[0]
        for name, value in (("dt", dt), ("kappa", kappa)):
            if value is None or value.shape != (members,):
                raise ValueError(
                    f"per-member {name} must have shape ({members},), but got "
                    f"{None if value is None else tuple(value.shape)}"
                )
        lead = (members,) + (1,) * (beta.dim() - 1)  # broadcast over each member's field
        rhs = allen_cahn_rhs(beta, diffusion=self.diffusion, epsilon=self.epsilon, seeds=True)
        if unit_loss is not None and beta.dim() > 1:  # a field: the force of the loss
            rhs = rhs - kappa.view(lead) * central_difference(unit_loss.detach())
        return beta.add_(rhs * dt.view(lead))


def ginzburg_landau_energy(beta: Tensor, epsilon: float = 1.0) -> Tensor:
    """E = sum_i ε²/2 (β[i+1] - β[i])² + (1 - β[i]²)² / 4, which the physical flow decreases."""
    grad = beta.roll(-1, -1) - beta if beta.dim() else torch.zeros_like(beta)
    return (0.5 * epsilon**2 * grad.square() + 0.25 * (1 - beta.square()).square()).sum()
