"""The Ginzburg–Landau loss against a direct transcription of the blog's ``d_loss``."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from landau import GinzburgLandauLoss, ginzburg_landau_loss, loss_density, unit_loss

BLOG_TABLE = {"alpha": 0.0095, "gamma": 6.5}  # the blog's table of results
BLOG_CODE = {"alpha": 0.0035, "gamma": 5.0}  # the defaults of the blog's LandauLayer


def blog_d_loss(phi, target, alpha, gamma):
    """The blog's LandauLayer.d_loss, verbatim (self.alpha/self.gamma made arguments)."""
    max_abs_phi = torch.max(torch.abs(phi), dim=1, keepdim=True)[0]
    phi_norm = phi / (max_abs_phi)
    phi_x = (torch.roll(phi_norm, -1, dims=0) - torch.roll(phi_norm, 1, dims=0)) / 2.0
    target_one_hot = F.one_hot(target, num_classes=phi.size(1)).float()
    max_abs_target = torch.max(torch.abs(target_one_hot), dim=1, keepdim=True)[0]
    target_norm = target_one_hot / (max_abs_target)
    diff = phi_norm - target_norm
    quadratic_term = alpha * (diff) ** 2
    quartic_term = gamma * (diff) ** 4
    spatial_term = 0.5 * phi_x**2
    d_loss = quadratic_term - quartic_term + spatial_term
    mean_d_loss = d_loss.mean()
    return torch.abs(mean_d_loss)


def direct_terms(phi, target, alpha, gamma, spatial_dim=0):
    """alpha d^2, gamma d^4, 0.5 phi_x^2 from the formulas, written independently of landau."""
    phi_norm = phi / phi.abs().max(dim=1, keepdim=True).values
    d = phi_norm - F.one_hot(target, phi.shape[1]).to(phi.dtype)  # one-hot rows have max 1
    n = phi.shape[spatial_dim]
    ahead = phi_norm.index_select(spatial_dim, torch.tensor([(i + 1) % n for i in range(n)]))
    behind = phi_norm.index_select(spatial_dim, torch.tensor([(i - 1) % n for i in range(n)]))
    return alpha * d**2, gamma * d**4, 0.5 * ((ahead - behind) / 2) ** 2


def batch(seed=0, b=8, c=10, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, generator=g, dtype=dtype), torch.randint(0, c, (b,), generator=g)


@pytest.mark.parametrize("coeffs", [BLOG_TABLE, BLOG_CODE])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_defaults_equal_blog_d_loss_with_gradients(coeffs, seed):
    phi, target = batch(seed)
    phi.requires_grad_()
    ours = GinzburgLandauLoss(**coeffs)(phi, target)
    blog = blog_d_loss(phi, target, **coeffs)
    torch.testing.assert_close(ours, blog, rtol=1e-6, atol=0)
    torch.testing.assert_close(
        torch.autograd.grad(ours, phi)[0], torch.autograd.grad(blog, phi)[0], rtol=1e-5, atol=1e-7
    )
    torch.testing.assert_close(ginzburg_landau_loss(phi, target, **coeffs), ours)


def test_density_terms_equal_formulas():
    phi, target = batch(3, dtype=torch.float64)
    terms = loss_density(phi, target, **BLOG_TABLE)
    want = dict(
        zip(
            ["quadratic", "quartic", "spatial"],
            direct_terms(phi, target, **BLOG_TABLE),
            strict=True,
        )
    )
    for name in want:
        torch.testing.assert_close(terms[name], want[name], rtol=1e-12, atol=0)


FLAGS = list(itertools.product([True, False], repeat=4))


@pytest.mark.parametrize("quadratic, quartic, spatial, absolute", FLAGS)
@pytest.mark.parametrize("spatial_dim", [0, 1])
def test_flags_select_terms(quadratic, quartic, spatial, absolute, spatial_dim):
    phi, target = batch(4, dtype=torch.float64)
    quad, quart, spat = direct_terms(phi, target, **BLOG_TABLE, spatial_dim=spatial_dim)
    signed = (quadratic * quad - quartic * quart + spatial * spat).mean()
    want = signed.abs() if absolute else signed
    flags = dict(quadratic=quadratic, quartic=quartic, spatial=spatial, spatial_dim=spatial_dim)
    got = GinzburgLandauLoss(**BLOG_TABLE, **flags, absolute=absolute)(phi, target)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-15)
    # the per-unit energy averages the same density over the batch only
    units = unit_loss(phi, target, **BLOG_TABLE, **flags)
    assert units.shape == (phi.shape[1],)
    torch.testing.assert_close(units.mean(), signed, rtol=1e-12, atol=1e-15)


def test_signed_loss_is_negative_for_bad_predictions():
    # without the absolute value the negative quartic makes the "energy" of a wrong guess negative
    phi, target = batch(5)
    wrong = torch.full_like(phi, -1.0)
    assert ginzburg_landau_loss(wrong, target, **BLOG_TABLE, absolute=False) < 0


def test_row_scale_invariance():
    phi, target = batch(6, dtype=torch.float64)
    scale = torch.rand(phi.shape[0], 1, dtype=torch.float64) * 100 + 0.01
    torch.testing.assert_close(
        ginzburg_landau_loss(phi * scale, target, **BLOG_TABLE),
        ginzburg_landau_loss(phi, target, **BLOG_TABLE),
    )


def test_terms_reports_batch_means():
    phi, target = batch(7, dtype=torch.float64)
    terms = GinzburgLandauLoss(**BLOG_TABLE).terms(phi, target)
    want = direct_terms(phi, target, **BLOG_TABLE)
    assert terms == pytest.approx(
        {k: float(v.mean()) for k, v in zip(terms, want, strict=True)}, rel=1e-12
    )
    assert list(terms) == ["quadratic", "quartic", "spatial"]


def test_zero_row_normalises_to_zeros_with_finite_loss_and_gradient():
    phi, target = batch(8)
    phi[2] = 0.0  # e.g. a sample whose outputs a ReLU all zeroed
    phi.requires_grad_()
    with torch.no_grad():  # the blog's formula: 0/0 on that row
        assert torch.isnan(blog_d_loss(phi, target, **BLOG_TABLE))
    loss = ginzburg_landau_loss(phi, target, **BLOG_TABLE)
    # the documented convention: the zero row's phi_norm is 0, so there d = -target
    phi_norm = (phi / phi.abs().amax(1, keepdim=True)).detach().nan_to_num(0.0)
    assert (phi_norm[2] == 0).all()
    d = phi_norm - F.one_hot(target, 10)
    phi_x = (phi_norm.roll(-1, 0) - phi_norm.roll(1, 0)) / 2
    want = (BLOG_TABLE["alpha"] * d**2 - BLOG_TABLE["gamma"] * d**4 + 0.5 * phi_x**2).mean().abs()
    torch.testing.assert_close(loss.detach(), want, rtol=1e-6, atol=0)
    (grad,) = torch.autograd.grad(loss, phi)
    # finite and of ordinary size (a divisor clamped to float32's tiny gave ~1e38 on that row)
    assert torch.isfinite(grad).all() and grad.abs().max() < 100.0


def test_perfect_prediction_scale_does_not_matter():
    target = torch.arange(10)
    one_hot = F.one_hot(target, 10).float()
    torch.testing.assert_close(
        ginzburg_landau_loss(3.0 * one_hot, target, **BLOG_TABLE),
        ginzburg_landau_loss(one_hot, target, **BLOG_TABLE),
    )


@pytest.mark.parametrize("coeffs", [BLOG_TABLE, BLOG_CODE])
def test_records_how_the_blog_loss_ranks_predictions(coeffs):
    """What the blog's loss says about a few predictions, recorded as it is.

    Batch of 10 with targets 0..9, so neighbouring samples (the "spatial" axis is the batch) differ.
    * perfect: d = 0, but the batch-axis spatial term of one-hot rows that differ is 0.025 > 0.
    * wrong class / all zero / uniform / negated: the quartic dominates, mean(...) is very
      negative and |mean| large: these are ranked below the perfect prediction.
    * runner-up (argmax right, a wrong class at 0.44): its -gamma d^4 cancels the spatial term,
      so this imperfect prediction scores LOWER (better) than the perfect one. With the absolute
      value of a mean containing a negative quartic, the minimum 0 is reached wherever the terms
      cancel, not only at the target.
    """
    target = torch.arange(10)
    one_hot = F.one_hot(target, 10).float()
    candidates = {
        "runner_up": one_hot + 0.44 * F.one_hot((target + 1) % 10, 10),
        "perfect": one_hot,
        "all_zero": torch.zeros(10, 10),
        "wrong_class": F.one_hot((target + 1) % 10, 10).float(),
        "uniform": torch.ones(10, 10),
        "negated": -one_hot,
    }
    losses = {k: float(ginzburg_landau_loss(v, target, **coeffs)) for k, v in candidates.items()}
    assert sorted(losses, key=losses.get) == list(candidates)  # best first, as listed above
    assert losses["perfect"] == pytest.approx(0.025)  # 0.5 * 2 * (1/2)^2 / 10: spatial term only
    assert losses["runner_up"] < 0.5 * losses["perfect"]


@pytest.mark.parametrize("coeffs", [BLOG_TABLE, BLOG_CODE])
def test_loss_is_not_monotone_in_the_error(coeffs):
    # all targets equal, so no spatial term: L(δ) = 0.9 |alpha δ² - gamma δ⁴| for a prediction that
    # puts δ on every wrong class; it vanishes again at δ* = sqrt(alpha / gamma) (≈ 0.038 / 0.026)
    alpha, gamma = coeffs["alpha"], coeffs["gamma"]
    target = torch.zeros(6, dtype=torch.long)
    one_hot = F.one_hot(target, 10).double()

    def loss(delta):
        return float(ginzburg_landau_loss(one_hot + delta * (1 - one_hot), target, **coeffs))

    for delta in (0.0, 0.01, 0.03, 0.1, 0.5):
        expected = 0.9 * abs(alpha * delta**2 - gamma * delta**4)
        assert loss(delta) == pytest.approx(expected, abs=1e-15)
    star = math.sqrt(alpha / gamma)
    # as good as the perfect prediction, and better than half the error
    assert loss(star) < 1e-15 and loss(star / 2) > 1e-7


@pytest.mark.parametrize(
    "phi, target, match",
    [
        (
            torch.randn(10),
            torch.zeros(10, dtype=torch.long),
            r"phi must have shape \(batch, classes\)",
        ),
        (torch.randn(4, 3), torch.zeros(5, dtype=torch.long), r"target must have shape \(4,\)"),
        (torch.randn(4, 3), torch.zeros(4, 1, dtype=torch.long), r"target must have shape \(4,\)"),
        (torch.randn(4, 3), torch.zeros(4), "integer class indices.*torch.float32"),
    ],
)
def test_bad_inputs_raise(phi, target, match):
    with pytest.raises(ValueError, match=match):
        ginzburg_landau_loss(phi, target, **BLOG_TABLE)


@pytest.mark.parametrize("name", ["alpha", "gamma"])
def test_negative_coefficients_raise(name):
    kwargs = {**BLOG_TABLE, name: -0.1}
    with pytest.raises(ValueError, match=rf"`{name} >= 0` must hold, but got {name}=-0.1"):
        GinzburgLandauLoss(**kwargs)
