"""landau.member_bmm: a member's product is bitwise the same in any population and at any
position, equals torch.bmm for a member alone on fresh tensors, and its autograd form has
torch.bmm's gradients."""

from __future__ import annotations

import itertools

import pytest
import torch

from landau.member_bmm import ALIGN_BYTES, member_bmm, member_matmul

POPULATIONS = [[0, 1, 2, 3, 4], [5, 3], [3, 6, 7], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]


def _layout(t: torch.Tensor, kind: str) -> torch.Tensor:
    """A fresh copy, row-major ("c") or stored transposed ("t", as w.transpose(1, 2) is)."""
    return t.clone() if kind == "c" else t.transpose(1, 2).contiguous().transpose(1, 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "rows, inner, cols",
    [(53, 156, 10), (7, 64, 10), (53, 33, 33), (2, 10, 33), (53, 33, 3), (64, 64, 1), (7, 33, 2)],
)
def test_a_members_product_does_not_depend_on_the_population(rows, inner, cols, dtype):
    g = torch.Generator().manual_seed(rows * inner + cols)
    for kinds in itertools.product("ct", repeat=2):
        a = torch.randn(10, rows, inner, generator=g, dtype=dtype)
        b = torch.randn(10, inner, cols, generator=g, dtype=dtype)
        bias = torch.randn(10, 1, cols, generator=g, dtype=dtype)
        alone = member_bmm(_layout(a[3:4], kinds[0]), _layout(b[3:4], kinds[1]), bias[3:4].clone())
        if cols > 1:  # alone on fresh (aligned) tensors: torch.baddbmm itself
            want = torch.baddbmm(
                bias[3:4].clone(), _layout(a[3:4], kinds[0]), _layout(b[3:4], kinds[1])
            )
            assert torch.equal(alone, want)
        for population in POPULATIONS:
            at = population.index(3)
            got = member_bmm(
                _layout(a[population], kinds[0]), _layout(b[population], kinds[1]), bias[population]
            )
            assert torch.equal(got[at], alone[0]), f"{kinds}, member 3 at {at} of {population}"
        # a view whose members start unaligned (a slice of a larger population) too
        view = member_bmm(_layout(a, kinds[0])[3:4], _layout(b, kinds[1])[3:4], bias[3:4])
        assert torch.equal(view, alone)


def test_results_start_every_member_on_an_aligned_boundary():
    a, b = torch.randn(3, 53, 33), torch.randn(3, 33, 10)
    out = member_bmm(a, b)
    assert all(out[s].data_ptr() % ALIGN_BYTES == 0 for s in range(3))
    torch.testing.assert_close(out, torch.bmm(a, b))


def test_member_matmul_has_the_gradients_of_bmm():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 7, 33, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 10, 33, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: member_matmul(x, y.transpose(1, 2)), (a, w))
    alone_a, alone_w = a[1:2].detach().clone(), w[1:2].detach().clone()
    alone_a.requires_grad_(True)
    alone_w.requires_grad_(True)
    grad_out = torch.randn(3, 7, 10, generator=g, dtype=torch.float64)
    member_matmul(a, w.transpose(1, 2)).backward(grad_out)
    torch.bmm(alone_a, alone_w.transpose(1, 2)).backward(grad_out[1:2])
    assert torch.equal(a.grad[1], alone_a.grad[0]) and torch.equal(w.grad[1], alone_w.grad[0])
