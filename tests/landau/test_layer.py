"""LandauLayer against the blog's per-sample-weight formula, kept here as a naive oracle."""

from __future__ import annotations

import pytest
import torch
from blog_oracle import BlogLandauLayer, blog_forward

from landau import BETA_SHAPES, LandauLayer
from landau.layer import _LandauScalarFn

BETAS = (1e-3, 0.3, -0.2)


def field_forward(x, w, beta, t):
    """phi[b, o] = sum_i w[o, i] (i cosh(5 β_o) + t g_b sinh(5 β_o)) x[b, i], per-sample weights."""
    g = torch.sigmoid(x.mean(dim=-1))  # (B,)
    i = torch.arange(x.size(-1), dtype=x.dtype)
    mod = (
        i * torch.cosh(5 * beta)[None, :, None]
        + (t * g)[:, None, None] * torch.sinh(5 * beta)[None, :, None]
    )  # (B, out, in)
    return torch.matmul(w * mod, x.unsqueeze(-1)).squeeze(-1)


def relative_error(a, b):
    return float((a - b).detach().norm() / b.detach().norm())


def make_layer(in_f, out_f, beta, dtype, beta_shape="scalar", t=0.7, seed=0):
    torch.manual_seed(seed)
    layer = LandauLayer(in_f, out_f, beta, beta_shape=beta_shape).to(dtype)
    with torch.no_grad():
        layer.t.fill_(t)  # t != 1 so that dL/dt and the t in dL/dβ are exercised
        if beta_shape == "field":  # distinct β per unit
            layer.beta.add_(torch.linspace(-0.1, 0.1, out_f, dtype=dtype))
    return layer


def compare_with_oracle(layer, oracle, x, tol):
    params = [layer.w, layer.beta, layer.t]
    phi = layer(x)
    ref = oracle(x, *params)
    assert phi.shape == ref.shape == (x.shape[0], layer.out_features)
    assert relative_error(phi, ref) < tol
    grad_out = torch.randn_like(ref)  # a generic upstream gradient, not just ones
    inputs = params + ([x] if x.requires_grad else [])
    got = torch.autograd.grad(phi, inputs, grad_out)
    want = torch.autograd.grad(ref, inputs, grad_out)
    for g, r in zip(got, want, strict=True):
        assert g.shape == r.shape
        assert relative_error(g, r) < tol


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_scalar_beta_matches_blog_formula(dtype, tol, beta, x_requires_grad):
    layer = make_layer(37, 11, beta, dtype)
    x = torch.randn(16, 37, dtype=dtype, requires_grad=x_requires_grad)
    compare_with_oracle(layer, blog_forward, x, tol)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("x_requires_grad", [False, True])
def test_field_beta_matches_per_unit_formula(dtype, tol, beta, x_requires_grad):
    layer = make_layer(23, 9, beta, dtype, beta_shape="field")
    assert layer.beta.shape == (9,)
    x = torch.randn(12, 23, dtype=dtype, requires_grad=x_requires_grad)
    compare_with_oracle(layer, field_forward, x, tol)


def test_field_with_equal_betas_equals_scalar():
    scalar = make_layer(20, 6, 0.3, torch.float64)
    field = LandauLayer(20, 6, 0.3, beta_shape="field").double()
    field.load_state_dict({"w": scalar.w, "beta": scalar.beta.repeat(6), "t": scalar.t})
    x = torch.randn(5, 20, dtype=torch.float64)
    torch.testing.assert_close(field(x), scalar(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("beta", BETAS)
def test_fused_function_gradcheck(beta):
    torch.manual_seed(1)
    x = torch.randn(4, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 7, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    idx = torch.arange(7, dtype=torch.float64)[None]
    assert torch.autograd.gradcheck(_LandauScalarFn.apply, (x, w, b, t, idx))


def test_fused_function_gradcheck_with_some_inputs_frozen():
    torch.manual_seed(2)
    x = torch.randn(4, 7, dtype=torch.float64)
    w = torch.randn(3, 7, dtype=torch.float64)
    b = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.7], dtype=torch.float64)
    idx = torch.arange(7, dtype=torch.float64)[None]
    assert torch.autograd.gradcheck(_LandauScalarFn.apply, (x, w, b, t, idx))


def test_second_derivative_raises_instead_of_being_wrong():
    # the hand-written backward is first order only; a silent wrong Hessian would be worse
    layer = make_layer(5, 3, 0.3, torch.float64)
    x = torch.randn(4, 5, dtype=torch.float64)
    (g,) = torch.autograd.grad(layer(x).square().sum(), layer.beta, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


def test_no_grad_forward_matches():
    layer = make_layer(10, 4, 0.3, torch.float64)
    x = torch.randn(3, 10, dtype=torch.float64)
    with torch.no_grad():
        phi = layer(x)
    torch.testing.assert_close(phi, blog_forward(x, layer.w, layer.beta, layer.t).detach())


def test_state_shapes_and_defaults():
    layer = LandauLayer(5, 3)
    assert layer.w.shape == (3, 5) and layer.beta.shape == () and layer.t.shape == (1,)
    assert layer.beta.item() == pytest.approx(1e-3) and layer.t.item() == 1.0
    assert set(layer.state_dict()) == {"w", "beta", "t"}  # idx is a non-persistent buffer


def test_blog_state_dict_loads_strictly():
    blog = BlogLandauLayer(12, 4, 0.3)
    layer = LandauLayer(12, 4)
    layer.load_state_dict(blog.state_dict(), strict=True)
    x = torch.randn(6, 12)
    torch.testing.assert_close(layer(x), blog(x), rtol=1e-5, atol=1e-5)
    blog.load_state_dict(layer.state_dict(), strict=True)  # and back


@pytest.mark.parametrize(
    "x, match",
    [
        (torch.randn(5), r"shape \(batch, 5\).*\(5,\)"),
        (torch.randn(2, 6), r"shape \(batch, 5\).*\(2, 6\)"),
        (torch.randn(2, 1, 5), r"shape \(batch, 5\).*\(2, 1, 5\)"),
        (torch.randn(2, 5, dtype=torch.float64), "dtype torch.float32.*torch.float64"),
    ],
)
def test_bad_input_raises(x, match):
    with pytest.raises(ValueError, match=match):
        LandauLayer(5, 3)(x)


@pytest.mark.parametrize("name", ["in_features", "out_features"])
@pytest.mark.parametrize("value", [0, -1])
def test_bad_features_raise(name, value):
    kwargs = {"in_features": 4, "out_features": 3, name: value}
    with pytest.raises(ValueError, match=rf"`{name} >= 1` must hold, but got {name}={value}"):
        LandauLayer(**kwargs)


@pytest.mark.parametrize("value", [2.0, True, "3"])
def test_non_integer_features_raise(value):
    with pytest.raises(ValueError, match="in_features"):
        LandauLayer(value, 3)


def test_unknown_beta_shape_lists_known():
    with pytest.raises(ValueError, match="unknown beta_shape 'vector'; known: scalar, field"):
        LandauLayer(4, 3, beta_shape="vector")
    assert BETA_SHAPES == ("scalar", "field")


@pytest.mark.parametrize("beta", [200.0, -200.0])
def test_overflowing_beta_gives_non_finite_outputs_not_an_error(beta):
    # as torch.cosh does: a diverged run must be recorded as diverged, not crash
    layer = LandauLayer(6, 3, beta)
    x = torch.randn(4, 6)
    phi = layer(x)
    assert not torch.isfinite(phi).all()
    assert not torch.isfinite(blog_forward(x, layer.w, layer.beta, layer.t)).all()
    phi.sum().backward()
    assert not torch.isfinite(layer.beta.grad)


def test_overflowing_beta_gives_non_finite_output_not_an_exception():
    layer = LandauLayer(4, 3)
    with torch.no_grad():
        layer.beta.fill_(200.0)  # cosh(1000) overflows float64 too
    out = layer(torch.randn(2, 4))
    assert not torch.isfinite(out).all()


def test_beta_overflowing_float32_but_not_float64_diverges_without_exception():
    layer = LandauLayer(4, 3)
    with torch.no_grad():
        layer.beta.fill_(18.0)  # cosh(90) ~ 6e38: fine in float64, beyond float32's max
    x = torch.randn(2, 4, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert not torch.isfinite(out).all()
    assert layer.beta.grad is not None
