"""The Landau layer: a linear map whose weights are modulated by cosh/sinh of a learned β.

    phi[b, o] = sum_i w[o, i] * (i * cosh(5 β) + t * sigmoid(mean_i x[b, i]) * sinh(5 β)) * x[b, i]

The blog builds the per-sample weight tensor w2 of shape (B, out, in) and multiplies it with x.
Here the modulation is a per-sample rescaling of x followed by one matrix product, so the cost is
that of nn.Linear plus O(B * in) elementwise work. For the scalar β of the blog a fused autograd
Function computes the backward pass by hand (fewer kernel launches than the autograd graph).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from landau.batched import memberwise, stack_parameter
from landau.member_bmm import member_bmm, member_matmul

BETA_SHAPES = ("scalar", "field")
GRAPHS = ("fused", "blog")
BETA_SCALE = 5.0  # the blog's cosh(5 β), sinh(5 β)


def _check_features(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name} >= 1` must hold, but got {name}={value!r}")


class _LandauScalarFn(torch.autograd.Function):
    """phi = (x * scale) @ w.T, scale[b, i] = i c + t s sigmoid(mean x[b]); hand-written backward.

    c = cosh(5 β), s = sinh(5 β). Written for few kernel launches: at batch 64 the elementwise
    work is tiny and per-op dispatch, not arithmetic, is what the autograd graph would cost.
    β and t stay 0-d/(1,) tensors (no ``.item()``): no host sync on an accelerator and no graph
    break under torch.compile. An overflowing cosh(5β) gives inf/nan outputs, not an exception.
    First order only: the backward uses intermediates saved without a graph, so a second
    derivative through it raises (``once_differentiable``) instead of being silently wrong.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, beta: Tensor, t: Tensor, idx: Tensor) -> Tensor:
        z = beta * BETA_SCALE
        c, s = z.cosh(), z.sinh()  # ()
        ts = t * s  # (1,)
        g = x.mean(dim=1, keepdim=True).sigmoid_()  # (B, 1)
        scale = torch.add(g * ts, idx * c)  # (B, in): i c + t s g_b (addcmul: 5x slower here)
        need_x = ctx.needs_input_grad[0]
        # dL/dx needs scale; otherwise xs = x * scale may overwrite it
        xs = x * scale if need_x else scale.mul_(x)  # (B, in)
        ctx.save_for_backward(x, w, idx, g, xs, scale if need_x else None, c, s, t, ts)
        return xs.mm(w.t())  # (B, out)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_phi: Tensor):
        x, w, idx, g, xs, scale, c, s, t, ts = ctx.saved_tensors
        need_x, need_w, need_beta, need_t, _ = ctx.needs_input_grad
        grad_x = grad_w = grad_beta = grad_t = None
        if need_w:
            grad_w = grad_phi.t().mm(xs)  # (out, in)
        if need_x or need_beta or need_t:
            grad_xs = grad_phi.mm(w)  # (B, in)
            p = grad_xs * x if need_x else grad_xs.mul_(x)  # (B, in): dL/dscale
            r = p.sum(dim=1, keepdim=True)  # (B, 1)
            rg = r.view(-1).dot(g.view(-1))  # (): sum_b r_b g_b
            if need_beta:
                # d scale / d β = 5 s i + 5 c t g_b
                a = p.mv(idx.view(-1)).sum()  # (): sum_{b,i} p[b, i] i
                grad_beta = torch.addcmul(a * s, c * rg, t.view(())).mul_(BETA_SCALE)
            if need_t:
                grad_t = (rg * s).view(1)
            if need_x:
                # d scale[b, i] / d x[b, j] = t s g_b (1 - g_b) / in, for every i
                coupling = (1.0 - g).mul_(g).mul_(r).mul_(ts / x.shape[1])  # (B, 1)
                grad_x = grad_xs.mul_(scale).add_(coupling)
        return grad_x, grad_w, grad_beta, grad_t, None


class LandauLayer(nn.Module):
    """The blog's Landau layer, computed without materialising per-sample weights.

    Parameters keep the blog's names, so its state_dicts load with ``strict=True``:
    ``w`` (out, in), Xavier-normal; ``beta`` (0-d for ``beta_shape="scalar"``, (out,) for
    ``"field"``: one β per output unit, which modulates that unit's row of w); ``t`` (1,).

    Options (defaults: the blog): ``index_scale=False`` weights every input by 1 instead of its
    index ``i`` (a correction: ``arange`` leaves input 0 dead); ``t_dynamic=False`` drops the
    input-adaptive ``t sigmoid(mean x) sinh(5β)`` term (``t`` is then frozen);
    ``graph="blog"`` computes the blog's autograd graph verbatim (per-sample weights
    (B, out, in)), whose saved tensors alias ``w`` and ``t`` exactly as the blog's do — what the
    blog's sequential per-parameter gradients read (landau.optim.blog_sequential_step).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        beta_init: float = 1e-3,
        *,
        beta_shape: str = "scalar",
        index_scale: bool = True,
        t_dynamic: bool = True,
        graph: str = "fused",
    ) -> None:
        super().__init__()
        _check_features("in_features", in_features)
        _check_features("out_features", out_features)
        if beta_shape not in BETA_SHAPES:
            raise ValueError(f"unknown beta_shape {beta_shape!r}; known: {', '.join(BETA_SHAPES)}")
        if graph not in GRAPHS:
            raise ValueError(f"unknown graph {graph!r}; known: {', '.join(GRAPHS)}")
        self.in_features = in_features
        self.out_features = out_features
        self.beta_shape = beta_shape
        self.index_scale, self.t_dynamic, self.graph = bool(index_scale), bool(t_dynamic), graph
        self.w = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.xavier_normal_(self.w)
        beta = torch.tensor(float(beta_init))
        if beta_shape == "field":
            beta = beta.repeat(out_features)
        self.beta = nn.Parameter(beta)
        self.t = nn.Parameter(torch.tensor([1.0]), requires_grad=self.t_dynamic)
        # the blog's `a = arange(in)`: input index i, kept as a (1, in) buffer (not in state_dict)
        idx = torch.arange(in_features, dtype=torch.float32)[None]
        self.register_buffer("idx", idx if index_scale else torch.ones_like(idx), False)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"LandauLayer expects input of shape (batch, {self.in_features}), "
                f"but got {tuple(x.shape)}"
            )
        if x.dtype != self.w.dtype:
            raise ValueError(f"LandauLayer expects dtype {self.w.dtype}, but got {x.dtype}")

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        idx = self.idx if self.idx.dtype == x.dtype else self.idx.to(x.dtype)
        if self.graph == "blog" or not self.t_dynamic:
            return self._plain_forward(x, idx)
        if self.beta_shape == "scalar":
            return _LandauScalarFn.apply(x, self.w, self.beta, self.t, idx)
        # field: one β per output unit o, so phi = cosh(5β_o) (x*i)@w.T + t g_b sinh(5β_o) x@w.T;
        # both products in ONE matmul by stacking along the batch.
        batch = x.shape[0]
        both = torch.cat([x * idx, x]) @ self.w.t()  # (2B, out)
        g = torch.sigmoid(x.mean(dim=1, keepdim=True))  # (B, 1)
        c = torch.cosh(BETA_SCALE * self.beta)
        s = torch.sinh(BETA_SCALE * self.beta)
        return c * both[:batch] + (self.t * g) * s * both[batch:]

    def _plain_forward(self, x: Tensor, idx: Tensor) -> Tensor:
        """The blog's forward in plain autograd ops (w2 = w * bracket; phi = w2 x)."""
        c, s = torch.cosh(BETA_SCALE * self.beta), torch.sinh(BETA_SCALE * self.beta)
        if self.beta_shape == "field":
            c, s = c[:, None], s[:, None]  # (out, 1)
        bracket = idx * c  # (1, in) or (out, in)
        if not self.t_dynamic:
            return x @ (self.w * bracket).t()  # (B, out)
        t_dynamic = self.t * torch.sigmoid(torch.mean(x, dim=-1)).unsqueeze(-1)  # (B, 1)
        if self.beta_shape == "field":
            w2 = self.w * (bracket + t_dynamic[:, :, None] * s)  # (B, out, in)
        else:
            w2 = self.w * (bracket + t_dynamic * s).unsqueeze(1)  # (B, out, in)
        return torch.matmul(w2, x.unsqueeze(-1)).squeeze(-1)  # (B, out)

    def extra_repr(self) -> str:
        options = "".join(
            f", {k}={getattr(self, k)!r}"
            for k, default in (("index_scale", True), ("t_dynamic", True), ("graph", "fused"))
            if getattr(self, k) != default
        )
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"beta_shape={self.beta_shape}{options}"
        )


class _LandauScalarSeedsFn(torch.autograd.Function):
    """_LandauScalarFn for S seeds at once: x (S, B, in), w (S, out, in), β (S,), t (S, 1)."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, beta: Tensor, t: Tensor, idx: Tensor) -> Tensor:
        seeds = x.shape[0]
        z = beta * BETA_SCALE
        c, s = memberwise(torch.cosh, z), memberwise(torch.sinh, z)  # (S,)
        ts = t.view(-1) * s  # (S,)
        g = memberwise(torch.sigmoid, x.mean(dim=2, keepdim=True))  # (S, B, 1)
        scale = torch.add(g * ts.view(seeds, 1, 1), idx * c.view(seeds, 1, 1))  # (S, B, in)
        need_x = ctx.needs_input_grad[0]
        xs = x * scale if need_x else scale.mul_(x)  # (S, B, in)
        ctx.save_for_backward(x, w, idx, g, xs, scale if need_x else None, c, s, t, ts)
        return member_bmm(xs, w.transpose(1, 2))  # (S, B, out)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_phi: Tensor):
        x, w, idx, g, xs, scale, c, s, t, ts = ctx.saved_tensors
        need_x, need_w, need_beta, need_t, _ = ctx.needs_input_grad
        seeds = x.shape[0]
        grad_x = grad_w = grad_beta = grad_t = None
        if need_w:
            grad_w = member_bmm(grad_phi.transpose(1, 2), xs)  # (S, out, in)
        if need_x or need_beta or need_t:
            grad_xs = member_bmm(grad_phi, w)  # (S, B, in)
            p = grad_xs * x if need_x else grad_xs.mul_(x)  # (S, B, in): dL/dscale
            r = p.sum(dim=2, keepdim=True)  # (S, B, 1)
            rg = (r * g).sum(dim=(1, 2))  # (S,)
            if need_beta:
                # sum_{b,i} p[s, b, i] i as a product and two reductions along contiguous axes,
                # not p.matmul(idx): that folds the members into one (S B, in) gemv whose row
                # blocking depends on S B, so a member's last bit depended on the population
                a = (p * idx).sum(dim=2).sum(dim=1)  # (S,)
                grad_beta = torch.addcmul(a * s, c * rg, t.view(-1)).mul_(BETA_SCALE)
            if need_t:
                grad_t = (rg * s).view(seeds, 1)
            if need_x:
                coupling = (1.0 - g).mul_(g).mul_(r).mul_((ts / x.shape[2]).view(seeds, 1, 1))
                grad_x = grad_xs.mul_(scale).add_(coupling)  # (S, B, in)
        return grad_x, grad_w, grad_beta, grad_t, None


class SeedBatchedLandauLayer(nn.Module):
    """S LandauLayers (one per seed) as one: x (S, B, in) -> (S, B, out), seed s with its own
    ``w`` (S, out, in), ``beta`` (S,) or (S, out) and ``t`` (S, 1). Built from S layers."""

    def __init__(self, layers: Sequence[LandauLayer]) -> None:
        super().__init__()
        first = layers[0]
        for layer in layers:
            if (layer.in_features, layer.out_features, layer.beta_shape) != (
                first.in_features,
                first.out_features,
                first.beta_shape,
            ):
                raise ValueError(
                    "LandauLayers to stack must agree in in_features, out_features, beta_shape"
                )
        if not first.t_dynamic or first.graph != "fused":
            raise ValueError("seed-batched LandauLayers need t_dynamic=True and graph='fused'")
        self.in_features, self.out_features = first.in_features, first.out_features
        self.beta_shape = first.beta_shape
        self.w = stack_parameter([m.w for m in layers])  # (S, out, in)
        self.beta = stack_parameter([m.beta for m in layers])  # (S,) or (S, out)
        self.t = stack_parameter([m.t for m in layers])  # (S, 1)
        self.register_buffer("idx", first.idx.clone(), False)  # (1, in)

    @property
    def seeds(self) -> int:
        return self.w.shape[0]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[0] != self.seeds or x.shape[2] != self.in_features:
            raise ValueError(
                f"SeedBatchedLandauLayer expects input of shape ({self.seeds}, batch, "
                f"{self.in_features}), but got {tuple(x.shape)}"
            )
        idx = self.idx if self.idx.dtype == x.dtype else self.idx.to(x.dtype)
        if self.beta_shape == "scalar":
            return _LandauScalarSeedsFn.apply(x, self.w, self.beta, self.t, idx)
        batch = x.shape[1]
        both = member_matmul(torch.cat([x * idx, x], dim=1), self.w.transpose(1, 2))  # (S, 2B, out)
        # memberwise: each seed's values the same whatever the population (landau.batched)
        g = memberwise(torch.sigmoid, x.mean(dim=2, keepdim=True))  # (S, B, 1)
        z = BETA_SCALE * self.beta
        c = memberwise(torch.cosh, z).unsqueeze(1)  # (S, 1, out)
        s = memberwise(torch.sinh, z).unsqueeze(1)  # (S, 1, out)
        return c * both[:, :batch] + (self.t.unsqueeze(2) * g) * s * both[:, batch:]

    def extra_repr(self) -> str:
        return (
            f"seeds={self.seeds}, in_features={self.in_features}, "
            f"out_features={self.out_features}, beta_shape={self.beta_shape}"
        )
