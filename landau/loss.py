"""The blog's Ginzburg–Landau-style loss.

    L = | mean( alpha d^2 - gamma d^4 + 0.5 (d phi_norm / dx)^2 ) |,   d = phi_norm - target_norm

phi_norm = phi / max_o |phi[b, o]| (row-wise), target_norm the one-hot target normalised the same
way, and d/dx a central difference with wrap-around along ``spatial_dim`` — the blog's code takes it
along dim 0, the *batch* axis, so "spatial coherence" couples neighbouring samples of a batch.

Zero rows: the blog divides by max|phi| and gets 0/0 = NaN for a row that is all zeros (easy to
reach after a ReLU-family activation). Here such a row is divided by 1 instead, so it normalises to
zeros (d = -target) and the loss and its gradient stay finite. (Clamping the divisor to the dtype's
``tiny`` gives the same value but a gradient of order 1/tiny ~ 1e38 on that row, inf or NaN one
multiplication later.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from landau.loss_fused import fused_evaluate


def _check_inputs(phi: Tensor, target: Tensor, seeds: bool = False) -> None:
    lead = "seeds, batch" if seeds else "batch"
    if phi.dim() != (3 if seeds else 2):
        raise ValueError(f"phi must have shape ({lead}, classes), but got {tuple(phi.shape)}")
    if target.shape != phi.shape[:-1]:
        raise ValueError(
            f"target must have shape {tuple(phi.shape[:-1])} of class indices, "
            f"but got {tuple(target.shape)}"
        )
    if target.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"target must hold integer class indices, but got dtype {target.dtype}")


def _normalise_rows(v: Tensor) -> Tensor:
    max_abs = v.abs().amax(dim=-1, keepdim=True)  # (B, 1) or (S, B, 1)
    # an all-zero row is divided by 1: it stays zero, with a finite gradient
    return v / torch.where(max_abs > 0, max_abs, 1.0)


def _seed_dim(spatial_dim: int, seeds: bool) -> int:
    """The axis of (S, B, C) that is axis ``spatial_dim`` of one seed's (B, C)."""
    if spatial_dim not in (0, 1, -1, -2):
        raise ValueError(f"spatial_dim must be one of 0, 1, -1, -2, but got {spatial_dim!r}")
    return spatial_dim + 1 if seeds and spatial_dim >= 0 else spatial_dim


def loss_density(
    phi: Tensor,
    target: Tensor,
    *,
    alpha: float,
    gamma: float,
    spatial_dim: int = 0,
    seeds: bool = False,
) -> dict[str, Tensor]:
    """The three terms of the energy density, each of shape (B, C), signs not yet applied.

    Returns ``quadratic = alpha d^2``, ``quartic = gamma d^4`` and ``spatial = 0.5 phi_x^2``.
    ``seeds=True``: phi (S, B, C), target (S, B), terms (S, B, C), each seed's spatial
    difference taken within its own batch (``spatial_dim`` still names the axis of (B, C)).
    """
    _check_inputs(phi, target, seeds)
    spatial_dim = _seed_dim(spatial_dim, seeds)
    phi_norm = _normalise_rows(phi)  # (B, C)
    # the blog normalises the one-hot target by its row max too; that max is always 1
    target_norm = F.one_hot(target.long(), num_classes=phi.shape[-1]).to(phi.dtype)
    diff2 = (phi_norm - target_norm).square()  # (B, C)
    phi_x = (phi_norm.roll(-1, dims=spatial_dim) - phi_norm.roll(1, dims=spatial_dim)) / 2.0
    return {
        "quadratic": alpha * diff2,
        "quartic": gamma * diff2.square(),
        "spatial": 0.5 * phi_x.square(),
    }


def _combine(terms: dict[str, Tensor], quadratic: bool, quartic: bool, spatial: bool) -> Tensor:
    density = terms["quadratic"] if quadratic else torch.zeros_like(terms["quadratic"])
    if quartic:
        density = density - terms["quartic"]
    if spatial:
        density = density + terms["spatial"]
    return density  # (B, C)


def _reduce(density: Tensor, seeds: bool) -> Tensor:
    """Mean over the batch and the classes: () or, per seed, (S,)."""
    return density.mean(dim=(1, 2)) if seeds else density.mean()


def ginzburg_landau_loss(
    phi: Tensor,
    target: Tensor,
    *,
    alpha: float,
    gamma: float,
    quadratic: bool = True,
    quartic: bool = True,
    spatial: bool = True,
    spatial_dim: int = 0,
    absolute: bool = True,
    seeds: bool = False,
) -> Tensor:
    """The blog's loss; the defaults reproduce it exactly (including the absolute value).

    ``seeds=True``: phi (S, B, C), target (S, B) -> one loss per seed, (S,).
    """
    terms = loss_density(
        phi, target, alpha=alpha, gamma=gamma, spatial_dim=spatial_dim, seeds=seeds
    )
    value = _reduce(_combine(terms, quadratic, quartic, spatial), seeds)
    return value.abs() if absolute else value


def unit_loss(
    phi: Tensor,
    target: Tensor,
    *,
    alpha: float,
    gamma: float,
    quadratic: bool = True,
    quartic: bool = True,
    spatial: bool = True,
    spatial_dim: int = 0,
    seeds: bool = False,
) -> Tensor:
    """Energy density averaged over the batch: one value per output unit, shape (C,)
    ((S, C) with ``seeds=True``).

    The Allen–Cahn force of a field β is the central difference of this along the units.
    """
    terms = loss_density(
        phi, target, alpha=alpha, gamma=gamma, spatial_dim=spatial_dim, seeds=seeds
    )
    return _combine(terms, quadratic, quartic, spatial).mean(dim=-2)


class GinzburgLandauLoss(nn.Module):
    """Module form of :func:`ginzburg_landau_loss`, with ``terms()`` for per-epoch records."""

    def __init__(
        self,
        alpha: float,
        gamma: float,
        *,
        quadratic: bool = True,
        quartic: bool = True,
        spatial: bool = True,
        spatial_dim: int = 0,
        absolute: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("alpha", alpha), ("gamma", gamma)):
            if not value >= 0:
                raise ValueError(f"`{name} >= 0` must hold, but got {name}={value!r}")
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.quadratic, self.quartic, self.spatial = quadratic, quartic, spatial
        self.spatial_dim, self.absolute = spatial_dim, absolute

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, gamma={self.gamma}, quadratic={self.quadratic}, "
            f"quartic={self.quartic}, spatial={self.spatial}, spatial_dim={self.spatial_dim}, "
            f"absolute={self.absolute}"
        )

    def _terms_kwargs(self) -> dict:
        return {
            "alpha": self.alpha,
            "gamma": self.gamma,
            "quadratic": self.quadratic,
            "quartic": self.quartic,
            "spatial": self.spatial,
            "spatial_dim": self.spatial_dim,
        }

    def forward(self, phi: Tensor, target: Tensor) -> Tensor:
        return ginzburg_landau_loss(phi, target, absolute=self.absolute, **self._terms_kwargs())

    def seed_losses(self, phi: Tensor, target: Tensor) -> Tensor:
        """One loss per seed: phi (S, B, C), target (S, B) -> (S,)."""
        return ginzburg_landau_loss(
            phi, target, absolute=self.absolute, seeds=True, **self._terms_kwargs()
        )

    def unit_loss(self, phi: Tensor, target: Tensor) -> Tensor:
        """Per-unit energy, shape (C,) (see :func:`unit_loss`)."""
        return unit_loss(phi, target, **self._terms_kwargs())

    def evaluate(self, phi: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One pass for training: (loss, detached batch means of the three terms as a (3,)
        tensor [quadratic, quartic, spatial], detached per-unit energy (C,))."""
        return self._evaluate(phi, target, seeds=False)

    def evaluate_seeds(
        self,
        phi: Tensor,
        target: Tensor,
        alpha: Tensor | None = None,
        gamma: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`evaluate` for S seeds at once: phi (S, B, C), target (S, B) -> losses (S,),
        term means (S, 3), per-unit energy (S, C). Backpropagate ``losses.sum()``: each seed's
        parameters then get the gradient of their own loss. ``alpha``, ``gamma``: per-member
        values (S,) in phi's dtype, replacing the module's."""
        for name, value in (("alpha", alpha), ("gamma", gamma)):
            if value is not None and value.shape != phi.shape[:1]:
                raise ValueError(
                    f"per-member {name} must have shape ({phi.shape[0]},), "
                    f"but got {tuple(value.shape)}"
                )
        return self._evaluate(phi, target, seeds=True, alpha=alpha, gamma=gamma)

    def _evaluate(
        self,
        phi: Tensor,
        target: Tensor,
        seeds: bool,
        alpha: Tensor | None = None,
        gamma: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        # one autograd Function with a hand-written backward (landau.loss_fused): the same
        # values as loss_density + _combine, ~15% cheaper per training step's loss
        _check_inputs(phi, target, seeds)
        return fused_evaluate(
            phi,
            target,
            alpha=self.alpha if alpha is None else alpha,
            gamma=self.gamma if gamma is None else gamma,
            quadratic=self.quadratic,
            quartic=self.quartic,
            spatial=self.spatial,
            spatial_dim=_seed_dim(self.spatial_dim, seeds) % phi.dim(),
            absolute=self.absolute,
        )

    @torch.no_grad()
    def terms(self, phi: Tensor, target: Tensor) -> dict[str, float]:
        """Batch means of the three terms (positive magnitudes; the loss subtracts the quartic)."""
        parts = loss_density(
            phi, target, alpha=self.alpha, gamma=self.gamma, spatial_dim=self.spatial_dim
        )
        return {name: float(value.mean()) for name, value in parts.items()}
