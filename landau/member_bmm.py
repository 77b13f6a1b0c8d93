"""Batched matrix products whose result for one member does not depend on the population.

    member_bmm(a, b)[s] == a[s] @ b[s],   bitwise the same whatever members share the call

torch.bmm on the CPU hands the whole batch to one BLAS call (MKL's strided batch gemm), and for
many shapes that kernel rounds a member's product differently depending on where the member's
three matrices (a[s], b[s] and the result's [s]) start in memory: with members stored back to
back, member s of a population starts at s * M * K elements, which is 64-byte aligned or not
depending on s and the shape, while a member alone starts at an aligned allocation. Measured on
torch 2.13 (MKL, AVX-512), float32 and float64: e.g. (53, 156) @ (156, 10) and (7, 64) @
(64, 10) with a row-major right operand, or any product with a hidden width of 33, differed in
the last bit for members at odd positions. With every member's matrices starting on a 64-byte
boundary the same sweep found no difference (the members' batch strides are padded, not their
shapes, so a member's product is the one it computes alone). A right operand of one column
(N = 1) stays population-dependent even so: it is computed as a product and a row sum.

Where the operands already are aligned (a population of one on fresh tensors: every run alone)
nothing is copied, so such a run's values are those of torch.bmm. Other devices call torch.bmm
unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ALIGN_BYTES", "member_bmm", "member_matmul"]

ALIGN_BYTES = 64  # a cache line: the alignment MKL's kernels test for


def _aligned(t: Tensor) -> bool:
    members_ok = t.shape[0] == 1 or (t.stride(0) * t.element_size()) % ALIGN_BYTES == 0
    return members_ok and t.data_ptr() % ALIGN_BYTES == 0


def _padded_stride(rows: int, cols: int, itemsize: int) -> int:
    """Elements between members: rows * cols rounded up to a whole number of ALIGN_BYTES."""
    step = ALIGN_BYTES // itemsize
    return -(-(rows * cols) // step) * step


def _member_aligned(t: Tensor) -> Tensor:
    """t (S, M, K) with each member's matrix starting on an ALIGN_BYTES boundary and a unit
    stride in one of its two axes (row- or column-major, t's own): t itself where it already
    is, else a copy with padded member strides."""
    rows, cols = t.shape[1], t.shape[2]
    row_major = t.stride(2) == 1 or rows == 1
    column_major = not row_major and (t.stride(1) == 1 or cols == 1)
    if (row_major or column_major) and _aligned(t):
        return t
    stride = _padded_stride(rows, cols, t.element_size())
    buffer = torch.empty(t.shape[0], stride, dtype=t.dtype, device=t.device)
    if column_major:  # keep the layout: a transposed weight stays transposed
        view = buffer.as_strided((t.shape[0], rows, cols), (stride, 1, rows))
    else:
        view = buffer.as_strided((t.shape[0], rows, cols), (stride, cols, 1))
    return view.copy_(t)


def _member_empty(members: int, rows: int, cols: int, like: Tensor) -> Tensor:
    """An uninitialised (S, M, N) result, row-major, each member on an ALIGN_BYTES boundary."""
    stride = _padded_stride(rows, cols, like.element_size())
    if members == 1 or stride == rows * cols:
        return torch.empty(members, rows, cols, dtype=like.dtype, device=like.device)
    buffer = torch.empty(members, stride, dtype=like.dtype, device=like.device)
    return buffer.as_strided((members, rows, cols), (stride, cols, 1))


def member_bmm(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor:
    """``torch.bmm(a, b)`` (``torch.baddbmm(bias, a, b)`` with a bias broadcast to the result)
    for a (S, M, K), b (S, K, N), each member's product independent of the population (module
    doc). Not differentiable itself: for autograd Functions' forward and backward passes and
    for :func:`member_matmul`. The result may have padded member strides."""
    if a.device.type != "cpu" or torch.compiler.is_compiling():
        # other devices; and torch.compile, which traces neither data_ptr() nor out= products
        # without a graph break, and whose runs never share a population anyway
        return torch.bmm(a, b) if bias is None else torch.baddbmm(bias, a, b)
    if b.shape[2] == 1:  # a product and a reduction per row: no BLAS call
        out = (a * b.transpose(1, 2)).sum(dim=2, keepdim=True)  # (S, M, 1)
        return out if bias is None else out + bias
    a, b = _member_aligned(a), _member_aligned(b)
    out = _member_empty(a.shape[0], a.shape[1], b.shape[2], a)
    if bias is None:
        return torch.bmm(a, b, out=out)
    return torch.baddbmm(bias, a, b, out=out)


class _MemberMatmulFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return member_bmm(a, b)

    @staticmethod
    def backward(ctx, grad: Tensor):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = member_bmm(grad, b.transpose(1, 2)) if need_a else None  # (S, M, K)
        grad_b = member_bmm(a.transpose(1, 2), grad) if need_b else None  # (S, K, N)
        return grad_a, grad_b


def member_matmul(a: Tensor, b: Tensor) -> Tensor:
    """:func:`member_bmm` with autograd: (S, M, K) @ (S, K, N) -> (S, M, N); the gradients are
    member-invariant products too (the formulas of torch.bmm's backward). Under torch.compile,
    torch.bmm (compiled runs train alone)."""
    if torch.compiler.is_compiling():
        return torch.bmm(a, b)
    return _MemberMatmulFn.apply(a, b)
