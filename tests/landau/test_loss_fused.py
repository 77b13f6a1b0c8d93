"""GinzburgLandauLoss.evaluate (one autograd Function, hand-written backward) against the
autograd graph of loss_density: values and gradients, every switch, ties, zero rows, seeds."""

from __future__ import annotations

import itertools

import pytest
import torch

from landau import GinzburgLandauLoss, ginzburg_landau_loss, loss_density

COEFFS = {"alpha": 0.0095, "gamma": 6.5}
SWITCHES = list(itertools.product([True, False], repeat=4))  # quadratic, quartic, spatial, abs


def reference(phi, target, quadratic, quartic, spatial, absolute, spatial_dim, seeds):
    """(loss, term means, per-unit energy) through the autograd graph of landau.loss."""
    kw = {"quadratic": quadratic, "quartic": quartic, "spatial": spatial}
    loss = ginzburg_landau_loss(
        phi, target, **COEFFS, **kw, spatial_dim=spatial_dim, absolute=absolute, seeds=seeds
    )
    parts = loss_density(phi, target, **COEFFS, spatial_dim=spatial_dim, seeds=seeds)
    density = (
        (parts["quadratic"] if quadratic else 0 * parts["quadratic"])
        - (parts["quartic"] if quartic else 0)
        + (parts["spatial"] if spatial else 0)
    )
    dims = (-2, -1)
    means = torch.stack([parts[k].mean(dim=dims) for k in ("quadratic", "quartic", "spatial")], -1)
    return loss, means, density.mean(dim=-2)


def check(phi, target, switches, spatial_dim=0, seeds=False, tol=1e-12):
    quadratic, quartic, spatial, absolute = switches
    fn = GinzburgLandauLoss(
        **COEFFS,
        quadratic=quadratic,
        quartic=quartic,
        spatial=spatial,
        absolute=absolute,
        spatial_dim=spatial_dim,
    )
    phi = phi.detach().requires_grad_()
    got = (fn.evaluate_seeds if seeds else fn.evaluate)(phi, target)
    want = reference(phi, target, *switches, spatial_dim, seeds)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w.detach(), rtol=tol, atol=tol)
    assert not got[1].requires_grad and not got[2].requires_grad
    upstream = torch.randn_like(got[0]) if seeds else torch.tensor(1.7, dtype=phi.dtype)
    (g_got,) = torch.autograd.grad(got[0], phi, upstream)
    if not want[0].requires_grad:  # every term switched off: a constant zero loss
        assert not g_got.any()
        return
    (g_want,) = torch.autograd.grad(want[0], phi, upstream)
    torch.testing.assert_close(g_got, g_want, rtol=tol, atol=tol)


@pytest.mark.parametrize("switches", SWITCHES)
@pytest.mark.parametrize("spatial_dim", [0, 1])
def test_fused_equals_autograd_reference(switches, spatial_dim):
    g = torch.Generator().manual_seed(0)
    phi = torch.randn(9, 5, dtype=torch.float64, generator=g)
    check(phi, torch.randint(0, 5, (9,), generator=g), switches, spatial_dim)


@pytest.mark.parametrize("switches", SWITCHES[:4])
@pytest.mark.parametrize("spatial_dim", [0, 1])
def test_fused_seeds_equal_autograd_reference(switches, spatial_dim):
    g = torch.Generator().manual_seed(1)
    phi = torch.randn(3, 8, 4, dtype=torch.float64, generator=g)
    check(phi, torch.randint(0, 4, (3, 8), generator=g), switches, spatial_dim, seeds=True)


def test_fused_float32_within_1e_6():
    g = torch.Generator().manual_seed(2)
    phi = torch.randn(64, 10, generator=g)
    check(phi, torch.randint(0, 10, (64,), generator=g), (True,) * 4, tol=1e-6)


def test_ties_zero_rows_and_sign_changes_match_autograd():
    phi = torch.tensor(
        [[2.0, -2.0, 1.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 3.0], [0.5, 0.5, 0.5], [1.0, -4.0, 0.0]],
        dtype=torch.float64,
    )
    target = torch.tensor([0, 1, 2, 0, 1])
    for switches in SWITCHES:
        check(phi, target, switches)


def test_batch_of_one_and_two_match_autograd():
    for b in (1, 2):
        phi = torch.randn(b, 3, dtype=torch.float64)
        check(phi, torch.zeros(b, dtype=torch.long), (True,) * 4)


def test_second_derivative_raises_instead_of_being_wrong():
    phi = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    loss, _, _ = GinzburgLandauLoss(**COEFFS).evaluate(phi, torch.zeros(4, dtype=torch.long))
    (g,) = torch.autograd.grad(loss.square(), phi, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
