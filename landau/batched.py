"""Seed-batched modules: S independent copies of a network trained as one, every parameter and
buffer carrying a leading seed axis S.

    x (S, B, F) -> net -> (S, B, C),   seed s sees only its own batch x[s] and its own weights

``stack_modules(nets)`` builds the batched net from S ordinary nets (each built under its own
seed, as a sequential run builds it) and ``unstack_state_dict`` gives back S ordinary
state_dicts, so a batched run is stored exactly like S sequential runs. Leaf modules are
replaced by seed-batched versions (nn.Linear, nn.BatchNorm1d here; further ones, such as the
Landau layer, through ``converters``); the parents' own ``forward`` code is kept, which is
correct as long as it only chains submodules and elementwise functions (activations), as
nn.Sequential, PlainMLP and ExperimentalNet do. Parameter order is that of the ordinary net.

Random modules (dropout, nn.RReLU) are refused: their draws would come from one stream for all
seeds. This module imports torch only.

Why explicit bmm and not torch.func (stack_module_state + vmap): vmap has no rule for
``F.rrelu`` (the blog's activation), cannot update BatchNorm's running statistics in place (eval
outputs would then differ from the sequential run's), and even with relu and no running
statistics its step was 1.55-1.65x slower than this one (PlainMLP, moons and digits size).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from landau.activations import ACTIVATIONS
from landau.member_bmm import member_bmm

Converter = Callable[[Sequence[nn.Module]], nn.Module]

# Lane width, in elements, that every member's slice is padded to before an elementwise kernel
# whose vector body and scalar tail round differently (see ``memberwise``): a multiple of the
# widest vector loop torch's CPU kernels unroll (2 x AVX-512 = 32 floats or 16 doubles).
LANES = 64

# Elementwise functions whose CPU kernels give the same bits in the vector body and the scalar
# tail (IEEE-exact ops): no padding needed.
_EXACT_FUNCTIONS = (F.relu, F.rrelu, F.leaky_relu)
_EXACT_MODULES = (nn.Identity, nn.ReLU, nn.LeakyReLU)
# Elementwise functions a parent module may hold as an attribute and call in its forward
# (ExperimentalNet._act): in a stacked shell they are replaced by their memberwise versions.
_ROUNDING_FUNCTIONS = (F.mish, F.silu, F.gelu, F.elu, F.softplus, torch.sigmoid, torch.tanh)

# Parameter-free modules that act elementwise (or are no-ops): the same on (S, B, F) as on (B, F).
_ELEMENTWISE = (
    nn.Identity,
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.Mish,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
)


def memberwise(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """``fn(x)`` for an elementwise ``fn``, computed so that member s's values do not depend on
    how many members share the tensor or where s sits among them.

    Why: torch's CPU kernels for transcendental functions (sigmoid, cosh, sinh, mish, softplus,
    ...) run a vectorised body and a scalar tail that round differently (SLEEF vs libm), and
    which elements fall in the tail depends on the tensor's total size. Here every member's
    slice is padded to a multiple of ``LANES`` elements, so all of its elements go through the
    vector body, alone or among any number of members; autograd's backward kernels then run on
    the padded tensor too. x (P, ...) -> (P, ...).
    """
    members = x.shape[0]
    n = x[0].numel()
    pad = -n % LANES
    flat = x.reshape(members, n)  # (P, n)
    if not pad:
        return fn(flat.contiguous()).reshape(x.shape)
    out = fn(F.pad(flat, (0, pad)))  # (P, n + pad): no scalar tail inside any member
    return out[:, :n].reshape(x.shape)


class MemberwiseFunction:
    """An elementwise function applied through :func:`memberwise` (picklable, deep-copyable)."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        self.fn = fn

    def __call__(self, x: Tensor) -> Tensor:
        return memberwise(self.fn, x)

    def __repr__(self) -> str:
        return f"memberwise({getattr(self.fn, '__name__', self.fn)!r})"


def memberwise_function(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``fn`` itself when its kernel is IEEE-exact, else ``fn`` through :func:`memberwise`."""
    if fn in _EXACT_FUNCTIONS or isinstance(fn, MemberwiseFunction):
        return fn
    return MemberwiseFunction(fn)


class Memberwise(nn.Module):
    """An elementwise module (nn.Mish, nn.Sigmoid, ...) applied through :func:`memberwise`."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return memberwise(self.module, x)


def stack_tensors(tensors: Sequence[Tensor]) -> Tensor:
    """torch.stack with the checks a seed axis needs: same shape, dtype and device."""
    first = tensors[0]
    for t in tensors[1:]:
        if t.shape != first.shape or t.dtype != first.dtype or t.device != first.device:
            raise ValueError(
                "tensors to stack along the seed axis must agree in shape, dtype and device, "
                f"but got {tuple(first.shape)}/{first.dtype}/{first.device} and "
                f"{tuple(t.shape)}/{t.dtype}/{t.device}"
            )
    return torch.stack([t.detach() for t in tensors])


def stack_parameter(params: Sequence[nn.Parameter]) -> nn.Parameter:
    """One Parameter (S, *shape) from S Parameters; requires_grad must agree."""
    flags = {p.requires_grad for p in params}
    if len(flags) != 1:
        raise ValueError("parameters to stack must agree in requires_grad, but got both values")
    return nn.Parameter(stack_tensors(params), requires_grad=flags.pop())


class _SeedLinearFn(torch.autograd.Function):
    """y = x @ w.T + b per seed. By hand so that dL/dw comes out contiguous (S, out, in): the
    autograd of ``bmm(x, w.transpose(1, 2))`` returns it transposed, and AccumulateGrad's copy to
    w's layout then cost more than the products (MNIST size)."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        wt = w.transpose(1, 2)  # (S, in, out); products member-invariant (landau.member_bmm)
        return member_bmm(x, wt, None if b is None else b.unsqueeze(1))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = member_bmm(grad_y, w) if need_x else None  # (S, B, in)
        grad_w = member_bmm(grad_y.transpose(1, 2), x) if need_w else None  # (S, out, in)
        grad_b = grad_y.sum(dim=1) if ctx.has_bias and need_b else None  # (S, out)
        return grad_x, grad_w, grad_b


class SeedBatchedLinear(nn.Module):
    """S nn.Linear layers: y[s] = x[s] @ weight[s].T + bias[s]; x (S, B, in) -> (S, B, out)."""

    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.in_features, self.out_features = layers[0].in_features, layers[0].out_features
        self.weight = stack_parameter([m.weight for m in layers])  # (S, out, in)
        has_bias = {m.bias is not None for m in layers}
        if len(has_bias) != 1:
            raise ValueError("nn.Linear layers to stack must all have a bias or all have none")
        self.bias = stack_parameter([m.bias for m in layers]) if has_bias.pop() else None

    def forward(self, x: Tensor) -> Tensor:
        return _SeedLinearFn.apply(x, self.weight, self.bias)  # (S, B, out)

    def extra_repr(self) -> str:
        seeds = self.weight.shape[0]
        return f"seeds={seeds}, in_features={self.in_features}, out_features={self.out_features}"


class SeedBatchedBatchNorm1d(nn.Module):
    """S nn.BatchNorm1d: statistics over each seed's own batch, running stats per seed.

    Written out in (S, B, H) with IEEE-exact ops and reductions over B only,

        y = (x - mean_B x) / sqrt(var_B x + eps) * weight + bias,

    not as one F.batch_norm over a (B, S*H) layout: that kernel's backward vectorises across
    the S*H columns with a scalar tail, so a seed's gradients depended on how many seeds shared
    the call. Running statistics update in place per seed, with the unbiased variance, as
    nn.BatchNorm1d does.
    """

    def __init__(self, layers: Sequence[nn.BatchNorm1d]) -> None:
        super().__init__()
        first = layers[0]
        for m in layers:
            if (m.eps, m.momentum, m.affine, m.track_running_stats) != (
                first.eps,
                first.momentum,
                first.affine,
                first.track_running_stats,
            ):
                raise ValueError("BatchNorm1d layers to stack must agree in their settings")
        if first.momentum is None:
            raise ValueError("BatchNorm1d(momentum=None) (a cumulative average) is not supported")
        self.num_features, self.eps, self.momentum = first.num_features, first.eps, first.momentum
        self.affine, self.track_running_stats = first.affine, first.track_running_stats
        if self.affine:
            self.weight = stack_parameter([m.weight for m in layers])  # (S, H)
            self.bias = stack_parameter([m.bias for m in layers])  # (S, H)
        else:
            self.weight = self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", stack_tensors([m.running_mean for m in layers]))
            self.register_buffer("running_var", stack_tensors([m.running_var for m in layers]))
            self.register_buffer(
                "num_batches_tracked", stack_tensors([m.num_batches_tracked for m in layers])
            )  # (S,)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[1]
        if self.training or not self.track_running_stats:
            mean = x.mean(dim=1, keepdim=True)  # (S, 1, H)
            centred = x - mean  # (S, B, H)
            var = (centred * centred).mean(dim=1, keepdim=True)  # (S, 1, H), biased
            if self.training and self.track_running_stats:
                self._update_running(mean.detach(), var.detach(), batch)
        else:
            centred = x - self.running_mean.unsqueeze(1)
            var = self.running_var.unsqueeze(1)
        y = centred / (var + self.eps).sqrt()  # (S, B, H)
        if self.affine:
            y = y * self.weight.unsqueeze(1) + self.bias.unsqueeze(1)
        return y

    @torch.no_grad()
    def _update_running(self, mean: Tensor, var: Tensor, batch: int) -> None:
        self.num_batches_tracked.add_(1)
        unbiased = var.squeeze(1) * (batch / (batch - 1))  # (S, H)
        m = self.momentum
        self.running_mean.mul_(1.0 - m).add_(mean.squeeze(1) * m)
        self.running_var.mul_(1.0 - m).add_(unbiased * m)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, eps={self.eps}, momentum={self.momentum}"


def _convert_linear(layers: Sequence[nn.Module]) -> nn.Module:
    return SeedBatchedLinear(layers)  # type: ignore[arg-type]


def _convert_batchnorm(layers: Sequence[nn.Module]) -> nn.Module:
    return SeedBatchedBatchNorm1d(layers)  # type: ignore[arg-type]


BUILTIN_CONVERTERS: dict[type, Converter] = {
    nn.Linear: _convert_linear,
    nn.BatchNorm1d: _convert_batchnorm,
}


def _is_random(module: nn.Module) -> bool:
    return isinstance(module, nn.modules.dropout._DropoutNd | nn.RReLU)


def stack_modules(
    modules: Sequence[nn.Module], converters: Mapping[type, Converter] | None = None
) -> nn.Module:
    """One seed-batched module from S modules of the same architecture (see the module doc).

    The result is a copy of ``modules[0]`` whose leaves are replaced by their seed-batched
    versions; it is in ``modules[0]``'s training mode. The S inputs are not modified.
    """
    if len(modules) < 1:
        raise ValueError("stack_modules needs at least one module, but got none")
    table = {**BUILTIN_CONVERTERS, **(converters or {})}
    types = {type(m) for m in modules}
    if len(types) != 1:
        raise ValueError(f"modules to stack must be of one type, but got {sorted(map(str, types))}")
    kind = types.pop()
    if kind in table:
        return table[kind](modules)
    children = [dict(m.named_children()) for m in modules]
    if any(c.keys() != children[0].keys() for c in children):
        raise ValueError(f"{kind.__name__} modules to stack differ in their submodules")
    if not children[0]:  # a leaf that no converter knows
        if _is_random(modules[0]):
            raise ValueError(
                f"{kind.__name__} draws random numbers; seed-batching it would draw every seed's "
                "numbers from one stream, so it is not supported"
            )
        if not isinstance(modules[0], _ELEMENTWISE):
            raise ValueError(
                f"no seed-batched version of {kind.__name__}; known: "
                f"{', '.join(t.__name__ for t in table)} and elementwise activations"
            )
        if isinstance(modules[0], _EXACT_MODULES):
            return copy.deepcopy(modules[0])
        return Memberwise(copy.deepcopy(modules[0]))
    own = [n for n, _ in modules[0].named_parameters(recurse=False)]
    own += [n for n, _ in modules[0].named_buffers(recurse=False)]
    if own:
        raise ValueError(
            f"{kind.__name__} holds parameters or buffers of its own ({', '.join(own)}); "
            f"seed-batched leaves known: {', '.join(t.__name__ for t in table)}"
        )
    shell = copy.deepcopy(modules[0])  # the parent's attributes and forward; children replaced
    for name, value in list(vars(shell).items()):  # e.g. ExperimentalNet._act = F.mish
        if isinstance(value, nn.Module) or not callable(value):
            continue
        # an activation (a plugin's too: the registry) runs memberwise unless IEEE-exact
        if any(value is f for f in (*_ROUNDING_FUNCTIONS, *ACTIVATIONS.values())):
            setattr(shell, name, memberwise_function(value))
    for name in children[0]:
        shell.add_module(name, stack_modules([c[name] for c in children], table))
    return shell


def unstack_state_dict(state: Mapping[str, Tensor]) -> list[dict[str, Tensor]]:
    """S ordinary state_dicts from a seed-batched one: entry [s] of every tensor (cloned)."""
    sizes = {v.shape[0] if v.dim() else None for v in state.values()}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"every entry of a seed-batched state_dict needs the same leading seed axis, "
            f"but got sizes {sorted(map(str, sizes))}"
        )
    seeds = sizes.pop()
    return [{k: v[s].clone() for k, v in state.items()} for s in range(seeds)]


def seed_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy per seed, mean over each seed's batch: (S, B, C), (S, B) -> (S,)."""
    seeds, batch, classes = logits.shape
    per_sample = F.cross_entropy(
        logits.reshape(seeds * batch, classes), target.reshape(-1), reduction="none"
    )
    return per_sample.view(seeds, batch).mean(dim=1)  # (S,)
