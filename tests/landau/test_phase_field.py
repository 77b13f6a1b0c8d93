"""The Allen–Cahn update of β against closed forms: the logistic-cubic ODE, the tanh kink, the
energy it dissipates, and the linear growth rates of the blog's anti-diffusive variant."""

from __future__ import annotations

import math

import pytest
import torch

from landau import (
    DIFFUSIONS,
    AllenCahn,
    allen_cahn_rhs,
    central_difference,
    ginzburg_landau_energy,
    laplacian,
)

F64 = torch.float64


def checkerboard(n: int) -> torch.Tensor:
    return torch.tensor([(-1.0) ** i for i in range(n)], dtype=F64)


def run(beta: torch.Tensor, steps: int, **settings) -> torch.Tensor:
    ac = AllenCahn(kappa=0.0, **settings)
    for _ in range(steps):
        ac.step(beta)
    return beta


def zero_crossings(beta: torch.Tensor) -> list[float]:
    """Positions where the periodic field changes sign, by linear interpolation."""
    b, n, out = beta.tolist(), len(beta), []
    for i in range(n):
        j = (i + 1) % n
        if (b[i] > 0) != (b[j] > 0):
            out.append(i + b[i] / (b[i] - b[j]))
    return out


# --- the blog's scalar β ---------------------------------------------------------------------


def blog_update_beta(beta, d_loss, dt, kappa):
    """The blog's LandauLayer.update_beta on a 0-d β, given its (0-d) d_loss value."""
    d_loss_x = (torch.roll(d_loss, -1) - torch.roll(d_loss, 1)) / 2.0
    force = -kappa * d_loss_x
    with torch.no_grad():
        beta_xx = torch.roll(beta, -1) - 2 * beta + torch.roll(beta, 1)
        beta_t = (beta - beta.clone().detach()) / dt
        beta.data += dt * (beta_t - beta_xx + beta - beta**3 + force)


def test_roll_of_a_0d_tensor_is_the_tensor_so_the_blog_terms_vanish():
    beta = torch.tensor(0.7, dtype=F64)
    assert torch.roll(beta, -1) == beta and torch.roll(beta, 1) == beta
    assert laplacian(beta) == 0 and central_difference(beta) == 0
    assert (beta - beta.clone().detach()) / 1e-3 == 0  # the blog's beta_t


@pytest.mark.parametrize("diffusion", DIFFUSIONS)
@pytest.mark.parametrize("beta0", [1e-3, -0.4, 1.7])
def test_scalar_update_is_euler_for_the_cubic_ode(diffusion, beta0):
    # neither the Laplacian, the force nor β_t survive for a scalar β: dβ/dt = β - β³
    beta = torch.tensor(beta0, dtype=F64)
    unit_loss = torch.tensor([0.3, 1.0, 2.0], dtype=F64)  # ignored: a 0-d β has no neighbours
    rhs = allen_cahn_rhs(beta, kappa=5.0, unit_loss=unit_loss, diffusion=diffusion, epsilon=2.0)
    assert rhs == beta0 - beta0**3
    AllenCahn(dt=0.01, kappa=5.0, diffusion=diffusion, epsilon=2.0).step(beta, unit_loss)
    assert beta.item() == pytest.approx(beta0 + 0.01 * (beta0 - beta0**3), rel=1e-15)


def test_scalar_update_equals_the_blog_update_beta():
    ours = torch.nn.Parameter(torch.tensor(1e-3))
    blog = torch.nn.Parameter(torch.tensor(1e-3))
    ac = AllenCahn(dt=1e-3, kappa=1e-2)  # the blog's table
    for step in range(50):
        ac.step(ours, torch.full((10,), 0.1 * step))
        blog_update_beta(blog, torch.tensor(0.1 * step), dt=1e-3, kappa=1e-2)
        assert ours.item() == blog.item()


@pytest.mark.parametrize("beta0", [1e-3, -1e-3, 0.5, -0.5, 2.5, -3.0])
def test_scalar_beta_relaxes_to_its_sign(beta0):
    beta = run(torch.tensor(beta0, dtype=F64), 3000, dt=0.01)
    assert beta.item() == pytest.approx(math.copysign(1.0, beta0), abs=1e-9)


def test_zero_is_an_unstable_fixed_point():
    assert run(torch.tensor(0.0, dtype=F64), 100, dt=0.01).item() == 0.0


def exact_cubic(u0: float, t: float) -> float:
    """Solution of du/dt = u - u³: u0 e^t / sqrt(1 + u0² (e^{2t} - 1))."""
    return u0 * math.exp(t) / math.sqrt(1 + u0**2 * (math.exp(2 * t) - 1))


@pytest.mark.parametrize("u0", [0.1, -0.3, 2.0])
def test_scalar_steps_converge_at_first_order(u0):
    horizon, errors = 2.0, []
    for n in (50, 100, 200, 400):
        beta = run(torch.tensor(u0, dtype=F64), n, dt=horizon / n)
        errors.append(abs(beta.item() - exact_cubic(u0, horizon)))
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:], strict=False)]
    assert orders == pytest.approx([1.0] * 3, abs=0.05), orders
    assert errors[-1] < 1e-2 * abs(exact_cubic(u0, horizon))  # and small, at dt = 0.005


# --- a field β: one value per output unit ---------------------------------------------------


def test_laplacian_and_central_difference_by_hand():
    beta = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0], dtype=F64)
    # periodic: neighbours of unit 0 are units 4 and 1
    lap, diff = [16.0, 1.0, 2.0, 4.0, -23.0], [-7.0, 1.5, 3.0, 6.0, -3.5]
    torch.testing.assert_close(laplacian(beta), torch.tensor(lap, dtype=F64))
    torch.testing.assert_close(central_difference(beta), torch.tensor(diff, dtype=F64))


def test_force_is_minus_kappa_times_central_difference_of_unit_loss():
    beta = torch.tensor([0.1, -0.2, 0.3, 0.0, 0.5], dtype=F64)
    unit_loss = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0], dtype=F64)
    # force[i] = -0.1 (L[i+1] - L[i-1]) / 2, worked out by hand
    force = torch.tensor([0.7, -0.15, -0.3, -0.6, 0.35], dtype=F64)
    rhs = allen_cahn_rhs(beta, kappa=0.1, unit_loss=unit_loss, diffusion="none")
    torch.testing.assert_close(rhs, beta - beta**3 + force, rtol=1e-14, atol=1e-15)
    # with diffusion: blog subtracts ε²Δβ, physical adds it
    lap = torch.tensor([0.1, 0.8, -0.8, 0.8, -0.9], dtype=F64)  # by hand, periodic
    for diffusion, sign in (("blog", -1.0), ("physical", 1.0)):
        rhs = allen_cahn_rhs(beta, kappa=0.1, unit_loss=unit_loss, diffusion=diffusion, epsilon=2.0)
        torch.testing.assert_close(rhs, beta - beta**3 + force + sign * 4.0 * lap)


def test_force_ignores_gradients_of_the_loss():
    beta = torch.zeros(4, dtype=F64)
    unit_loss = torch.arange(4, dtype=F64, requires_grad=True)
    assert not allen_cahn_rhs(beta, kappa=1.0, unit_loss=unit_loss).requires_grad


def test_step_is_in_place_euler():
    beta = torch.nn.Parameter(torch.tensor([0.1, -0.2, 0.3, 0.6], dtype=F64))
    before = beta.detach().clone()
    unit_loss = torch.tensor([0.5, 0.1, 0.2, 0.9], dtype=F64)
    settings = dict(kappa=0.3, diffusion="physical", epsilon=1.5)
    rhs = allen_cahn_rhs(before, unit_loss=unit_loss, **settings)
    returned = AllenCahn(dt=0.05, **settings).step(beta, unit_loss)
    assert returned is beta
    torch.testing.assert_close(beta.detach(), before + 0.05 * rhs)


def test_energy_by_hand():
    beta = torch.tensor([0.0, 1.0, -1.0], dtype=F64)
    # gradient terms (periodic): (1-0)², (-1-1)², (0+1)² -> ε²/2 * 6; wells: 1/4 + 0 + 0
    assert ginzburg_landau_energy(beta, epsilon=2.0).item() == pytest.approx(2.0 * 6 + 0.25)
    assert ginzburg_landau_energy(torch.tensor(0.5, dtype=F64)).item() == pytest.approx(0.75**2 / 4)


def test_physical_rhs_is_minus_the_energy_gradient():
    torch.manual_seed(0)
    beta = torch.randn(16, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(ginzburg_landau_energy(beta, epsilon=1.5), beta)
    rhs = allen_cahn_rhs(beta.detach(), diffusion="physical", epsilon=1.5)
    torch.testing.assert_close(rhs, -grad)


@pytest.mark.parametrize("epsilon", [2.0, 3.0])
def test_physical_flow_keeps_a_kink_in_place(epsilon):
    # kink at 50.5 and anti-kink at 150.5 on a ring of 200 units, ~100 widths apart;
    # tanh(x / (sqrt(2) ε)) solves ε² β'' + β - β³ = 0
    i = torch.arange(200, dtype=F64)
    width = math.sqrt(2) * epsilon
    beta = torch.tanh((i - 50.5) / width) * torch.tanh((150.5 - i) / width)
    start = beta.clone()
    run(beta, 5000, dt=0.02, diffusion="physical", epsilon=epsilon)  # t = 100
    assert zero_crossings(beta) == pytest.approx([50.5, 150.5], abs=1e-6)
    # the lattice kink differs from the continuum tanh by O(1/ε²) only
    assert (beta - start).abs().max() < 0.01


def test_physical_flow_never_raises_the_energy():
    torch.manual_seed(0)
    beta = torch.empty(64, dtype=F64).uniform_(-1.5, 1.5)
    ac = AllenCahn(dt=0.05, kappa=0.0, diffusion="physical", epsilon=1.0)  # dt < 2 / (4ε² + 2)
    energies = [ginzburg_landau_energy(beta).item()]
    for _ in range(400):
        ac.step(beta)
        energies.append(ginzburg_landau_energy(beta).item())
    increases = [b - a for a, b in zip(energies, energies[1:], strict=False)]
    assert max(increases) <= 1e-12
    assert energies[-1] < 0.5 * energies[0]


# --- the blog's sign: anti-diffusion ----------------------------------------------------------
#
# For β = m + a (-1)^i (needs an even number of units) the update closes on (m, a):
#   dm/dt = m - m³ - 3 m a²,   da/dt = λ a - 3 m² a - a³,   λ = 1 ± 4ε² (blog: +, physical: -).
# Around m = 0 the checkerboard grows at rate 1 + 4ε² (blog) and saturates where a² = λ, i.e.
# at a = sqrt(1 + 4ε²): bounded, but as rough as the lattice allows. Around m = 1 it grows at
# rate 4ε² - 2 (if ε² > 1/2), and the only stable end state has m = 0: the ordered β ≡ 1 is
# destroyed and replaced by the checkerboard of the same amplitude.


def test_blog_checkerboard_grows_at_the_linear_rate_then_saturates():
    n, dt, epsilon = 64, 1e-3, 1.0
    beta = 1e-8 * checkerboard(n)
    run(beta, 2000, dt=dt, diffusion="blog", epsilon=epsilon)
    rate = 1 + dt * (4 * epsilon**2 + 1)
    torch.testing.assert_close(beta, 1e-8 * rate**2000 * checkerboard(n), rtol=1e-6, atol=0)
    assert beta.abs().max() > 2e4 * 1e-8  # more than four orders of magnitude
    run(beta, 8000, dt=dt, diffusion="blog", epsilon=epsilon)
    saturation = math.sqrt(1 + 4 * epsilon**2)  # sqrt(5) ≈ 2.236: cosh(5β) ≈ 3.6e4
    torch.testing.assert_close(beta, saturation * checkerboard(n), rtol=1e-9, atol=0)


def test_blog_checkerboard_destroys_the_ordered_state():
    n, dt, epsilon = 64, 1e-3, 1.0
    beta = 1.0 + 1e-8 * checkerboard(n)
    run(beta, 2000, dt=dt, diffusion="blog", epsilon=epsilon)
    rate = 1 + dt * (4 * epsilon**2 - 2)  # not 4ε² + 1: the well's curvature at ±1 is -2
    torch.testing.assert_close(beta - 1, 1e-8 * rate**2000 * checkerboard(n), rtol=1e-5, atol=0)
    run(beta, 18000, dt=dt, diffusion="blog", epsilon=epsilon)
    torch.testing.assert_close(beta, math.sqrt(5.0) * checkerboard(n), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("base, rate", [(0.0, 1 - 4.0), (1.0, -2 - 4.0)])
def test_physical_checkerboard_decays_at_the_linear_rate(base, rate):
    n, dt = 64, 1e-3
    beta = base + 1e-8 * checkerboard(n)
    run(beta, 500, dt=dt, diffusion="physical", epsilon=1.0)
    expected = 1e-8 * (1 + dt * rate) ** 500 * checkerboard(n)  # 20x to 50x smaller
    torch.testing.assert_close(beta - base, expected, rtol=1e-5, atol=0)


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dt": 0.0}, r"`dt > 0` must hold, but got dt=0.0"),
        ({"dt": -1e-3}, r"`dt > 0` must hold, but got dt=-0.001"),
        ({"kappa": -0.1}, r"`kappa >= 0` must hold, but got kappa=-0.1"),
        ({"epsilon": 0.0}, r"`epsilon > 0` must hold, but got epsilon=0.0"),
        ({"diffusion": "heat"}, "unknown diffusion 'heat'; known: blog, physical, none"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AllenCahn(**kwargs)


def test_rhs_validation():
    with pytest.raises(ValueError, match="unknown diffusion 'heat'; known: blog, physical, none"):
        allen_cahn_rhs(torch.zeros(3), diffusion="heat")
    with pytest.raises(ValueError, match=r"unit_loss must have β's shape \(3,\), but got \(4,\)"):
        allen_cahn_rhs(torch.zeros(3), kappa=1.0, unit_loss=torch.zeros(4))


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        AllenCahn().dt = 0.1
