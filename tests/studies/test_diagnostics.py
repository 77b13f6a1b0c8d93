"""Hessian diagnostics against quadratics with a known Hessian, and on a real run."""

import numpy as np
import pytest
import torch

from studies.experiment.config import DiagnosticsBudget, RunConfig
from studies.experiment.diagnostics import hessian_diagnostics
from studies.experiment.training import train

torch.set_num_threads(1)


def _quadratic(a: np.ndarray):
    """L(θ) = ½ θᵀAθ + bᵀθ with θ split over two parameter tensors: Hessian A."""
    n = len(a)
    a_t = torch.tensor(a, dtype=torch.float64)
    b = torch.linspace(-1, 1, n, dtype=torch.float64)
    p1 = torch.randn(3, dtype=torch.float64, requires_grad=True)
    p2 = torch.randn(n - 3, dtype=torch.float64, requires_grad=True)

    def loss():
        theta = torch.cat([p1, p2])
        return 0.5 * theta @ a_t @ theta + b @ theta

    return loss, [p1, p2]


def _symmetric(eigenvalues, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T


def test_top_eigenvalue_is_the_largest_even_when_a_negative_one_is_larger_in_magnitude():
    eig = np.array([-9.0, -1.0, 0.5, 1.0, 2.0, 3.0, 4.5, 7.0])
    loss, params = _quadratic(_symmetric(eig))
    before = [p.detach().clone() for p in params]
    top, trace = hessian_diagnostics(loss, params, iterations=8, probes=0)
    assert top == pytest.approx(7.0, rel=1e-6)
    assert trace is None
    for p, b in zip(params, before, strict=True):  # the parameters are restored
        assert torch.equal(p.detach(), b)


def test_hutchinson_is_exact_for_a_diagonal_hessian_and_unbiased_otherwise():
    diag = np.arange(1.0, 11.0)
    loss, params = _quadratic(np.diag(diag))
    _, trace = hessian_diagnostics(loss, params, iterations=0, probes=3)
    assert trace == pytest.approx(diag.sum(), rel=1e-8)
    dense = _symmetric(diag, seed=1)
    loss, params = _quadratic(dense)
    _, trace = hessian_diagnostics(loss, params, iterations=0, probes=4000)
    # variance of zᵀAz is 2 Σ_{i≠j} a_ij²: the estimate is within 4 standard errors
    se = np.sqrt(2 * (np.sum(dense**2) - np.sum(np.diag(dense) ** 2)) / 4000)
    assert abs(trace - diag.sum()) < 4 * se


def test_a_torch_run_stores_sharpness_and_trace_and_a_zero_budget_turns_them_off():
    cfg = RunConfig("full", "moons", 0, 2, 2, {"temperature": 0.0})
    record = train(cfg)
    assert record.status == "ok"
    assert np.isfinite(record.sharpness) and np.isfinite(record.hessian_trace)
    off = RunConfig(
        "full", "moons", 0, 2, 2, {"temperature": 0.0}, diagnostics=DiagnosticsBudget(512, 0, 0)
    )
    record = train(off)
    assert record.sharpness is None and record.hessian_trace is None


def test_a_non_finite_hessian_gives_nan_not_an_exception():
    p = torch.ones(4, dtype=torch.float64, requires_grad=True)
    top, trace = hessian_diagnostics(lambda: (p * float("inf")).square().sum(), [p], probes=2)
    assert np.isnan(top) and not np.isfinite(trace)
