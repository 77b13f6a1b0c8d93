"""Langevin through the checks PyTorch runs on every torch.optim optimizer.

PyTorch's ``TestOptimRenewed`` (test/test_optim.py, not shipped in the wheel) runs each entry of
``torch.testing._internal.common_optimizers.optim_db`` through shared checks: direction of the
loss, tensor lr, param groups, complex vs ``view_as_real``, foreach vs for-loop, state_dict
round trips and hooks, deepcopy, empty and None gradients. This module re-implements the checks
that apply to a dense, non-fused optimizer on CPU, over an ``OptimizerInfo`` for Langevin built
like SGD's, so that conformance stays measured. Every check runs at T = 0 and at T > 0; at T > 0
every optimizer instance gets its own generator seeded with the same seed, so two instances that
must agree draw the same noise. Two checks have no T > 0 meaning and get one that does (see
``test_complex_2d`` and ``test_step_is_noop_for_zero_grads``).
"""

from __future__ import annotations

import copy
import functools
import io
import math
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch.nn import Parameter
from torch.optim.lr_scheduler import (
    ConstantLR,
    ExponentialLR,
    LinearLR,
    PolynomialLR,
    ReduceLROnPlateau,
    StepLR,
)
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

from landau import Langevin

# The shapes of torch.testing._internal.common_optimizers (OptimizerInput, ErrorOptimizerInput,
# OptimizerInfo, _get_optim_inputs_including_global_cliquey_kwargs and
# get_error_inputs_for_all_optims), kept here because that module imports torch's test-only
# dependencies (expecttest), which are not installed with torch.


@dataclass
class OptimizerInput:
    params: Any
    kwargs: dict[str, Any]
    desc: str = ""


@dataclass
class ErrorOptimizerInput:
    optimizer_error_input: OptimizerInput
    error_type: type = RuntimeError
    error_regex: str = ""


@dataclass
class OptimizerInfo:
    optim_cls: type
    optim_inputs_func: Any
    optim_error_inputs_func: Any
    scheduler_inputs: tuple
    supported_impls: tuple[str, ...] = ("foreach", "differentiable")
    not_og_supported_flags: tuple[str, ...] = field(default=())
    supports_sparse: bool = False
    supports_complex: bool = True


def _get_optim_inputs_including_global_cliquey_kwargs(device, dtype, info, skip=()):
    """Every optim input with each supported cliquey flag off, then each one on alone."""
    impls = [flag for flag in info.supported_impls if flag not in skip]
    out = []
    for optim_input in info.optim_inputs_func(device):
        base = {**copy.deepcopy(optim_input.kwargs), **dict.fromkeys(impls, False)}
        out.append(OptimizerInput(None, base, optim_input.desc))
        for flag in impls:
            out.append(OptimizerInput(None, {**base, flag: True}, f"{optim_input.desc} & {flag}"))
    return out


def get_error_inputs_for_all_optims(device, dtype):
    p = Parameter(torch.randn(1, 1, device=device, dtype=dtype))
    q = Parameter(torch.randn(1, 1, device=device, dtype=dtype))
    return [
        ErrorOptimizerInput(
            OptimizerInput(p, {}, "invalid param type"),
            TypeError,
            "params argument given to the optimizer should be an iterable of Tensors or dicts",
        ),
        ErrorOptimizerInput(
            OptimizerInput([p, p], {}, "duplicate parameters in a group"),
            UserWarning,
            ".*a parameter group with duplicate parameters.*",
        ),
        ErrorOptimizerInput(
            OptimizerInput([{"params": p}, {"params": p}], {}, "duplicates across groups"),
            ValueError,
            "some parameters appear in more than one parameter group",
        ),
        ErrorOptimizerInput(
            OptimizerInput(None, {"lr": torch.tensor([0.001, 0.001])}, "2-element lr"),
            ValueError,
            "Tensor lr must be 1-element",
        ),
        ErrorOptimizerInput(
            OptimizerInput([("weight", p), q], {}, "names on some params only"),
            ValueError,
            "all optimizer params should be with/without names. Some param names are missing",
        ),
        ErrorOptimizerInput(
            OptimizerInput(
                [{"params": [p], "lr": 1e-2}, {"params": [("weight", q)]}], {}, "named groups"
            ),
            ValueError,
            "all optimizer param groups should be with/without names. "
            "cannot add param group with names to the optimizer",
        ),
    ]


SEED = 1234
TEMPERATURES = {"T=0": 0.0, "T>0": 1e-4}  # small enough that 20 steps still lower the loss
DEVICE, DTYPE = "cpu", torch.float32


def seeded_langevin(temperature: float) -> type[Langevin]:
    """Langevin at ``temperature`` whose every instance owns a generator seeded with SEED."""

    class SeededLangevin(Langevin):
        def __init__(self, params, **kwargs):
            kwargs.setdefault("temperature", temperature)
            if temperature > 0:
                kwargs.setdefault("generator", torch.Generator().manual_seed(SEED))
            super().__init__(params, **kwargs)

    SeededLangevin.__name__ = SeededLangevin.__qualname__ = "Langevin"
    return SeededLangevin


def optim_inputs_func_langevin(device, dtype=None):
    """Optimizer-specific and global-friendly kwargs, as optim_inputs_func_sgd (no cliquey)."""
    return [
        OptimizerInput(params=None, kwargs={}, desc="default"),
        OptimizerInput(params=None, kwargs={"lr": 1e-2}, desc="non-default lr"),
        OptimizerInput(params=None, kwargs={"lr": torch.tensor(0.001)}, desc="tensor lr"),
        OptimizerInput(params=None, kwargs={"lr": torch.tensor([0.001])}, desc="tensor lr [1]"),
        OptimizerInput(
            params=None, kwargs={"lr": torch.tensor([[0.001]])}, desc="tensor lr [1, 1]"
        ),
        OptimizerInput(params=None, kwargs={"weight_decay": 0.5}, desc="non-zero weight_decay"),
        OptimizerInput(params=None, kwargs={"damping": 0.5}, desc="damping"),
        OptimizerInput(params=None, kwargs={"damping": 1.0}, desc="damping 1 (plain SGD)"),
        OptimizerInput(params=None, kwargs={"damping": 1.5}, desc="negative momentum"),
        OptimizerInput(
            params=None, kwargs={"weight_decay": 0.1, "maximize": True}, desc="maximize"
        ),
        OptimizerInput(
            params=None,
            kwargs={"damping": 0.01, "weight_decay": 0.1},
            desc="weight_decay w/ momentum",
        ),
    ]


def optim_error_inputs_func_langevin(device, dtype):
    p = Parameter(torch.randn(1, 1, device=device, dtype=dtype))

    def construction(kwargs, regex, params=None, desc=""):
        return ErrorOptimizerInput(
            OptimizerInput(params=params, kwargs=kwargs, desc=desc),
            error_type=ValueError,
            error_regex=regex,
        )

    return get_error_inputs_for_all_optims(device, dtype) + [
        construction({"lr": 0.0}, r"`lr > 0` must hold, but got lr=0.0"),
        construction({"lr": torch.tensor(-1.0)}, r"`lr > 0` must hold, but got lr=tensor\(-1"),
        construction({"damping": 2.0}, r"`0 <= damping < 2` must hold, but got damping=2.0"),
        construction({"temperature": -1.0}, r"`temperature >= 0` must hold"),
        construction({"weight_decay": -0.1}, r"`weight_decay >= 0` .*got weight_decay=-0.1"),
        construction({"foreach": True, "differentiable": True}, r"cannot both be True"),
        construction({"generator": 42}, r"generator must be a torch.Generator or None"),
        construction({"generator": []}, r"one per seed"),
        construction(
            {}, r"`weight_decay >= 0` must hold", params=[{"params": [p], "weight_decay": -1}]
        ),
        construction({}, r"`lr > 0` must hold, but got lr=-1", params=[{"params": [p], "lr": -1}]),
    ]


# SGD's scheduler inputs, except PolynomialLR's horizon: SGD's entry drives lr to 0 after 4 of the
# 20 steps, which freezes SGD but leaves Langevin coasting on its velocity (lr sits inside v, as in
# the blog's equation) for ~1/damping steps; with lr 1e-2 that overshoots. That is the equation,
# not a conformance defect, so the schedule here ends after the 20 steps instead.
SCHEDULERS = (
    [lambda opt: StepLR(opt, gamma=0.9, step_size=10)],
    [lambda opt: LinearLR(opt, start_factor=0.4, end_factor=0.8, total_iters=4)],
    [
        lambda opt: StepLR(opt, gamma=0.99, step_size=10),
        lambda opt: ExponentialLR(opt, gamma=0.99),
        lambda opt: ReduceLROnPlateau(opt),
    ],
    [lambda opt: ConstantLR(opt, factor=0.4, total_iters=4)],
    [lambda opt: PolynomialLR(opt, power=0.9, total_iters=40)],
)


def langevin_info(temperature: float) -> OptimizerInfo:
    return OptimizerInfo(
        optim_cls=seeded_langevin(temperature),
        optim_inputs_func=optim_inputs_func_langevin,
        optim_error_inputs_func=optim_error_inputs_func_langevin,
        scheduler_inputs=SCHEDULERS,
        supported_impls=("foreach", "differentiable"),
        not_og_supported_flags=("foreach", "differentiable", "maximize", "weight_decay"),
    )


@pytest.fixture(params=list(TEMPERATURES.values()), ids=list(TEMPERATURES))
def info(request) -> OptimizerInfo:
    return langevin_info(request.param)


def temperature_of(info: OptimizerInfo) -> float:
    return info.optim_cls([torch.zeros(1, requires_grad=True)], lr=1.0).defaults["temperature"]


def all_inputs(info, skip=()):
    return _get_optim_inputs_including_global_cliquey_kwargs(DEVICE, DTYPE, info, skip=skip)


def weight_bias_input(contiguous=True, dtype=DTYPE):
    if contiguous:
        weight = Parameter(torch.randn(10, 5, dtype=dtype))
        bias = Parameter(torch.randn(10, dtype=dtype))
    else:
        weight = Parameter(torch.randn(10, 5, 2, dtype=dtype)[..., 0])
        bias = Parameter(torch.randn(10, 2, dtype=dtype)[..., 0])
    return weight, bias, torch.randn(5, dtype=dtype)


def quadratic_closure(optimizer, weight, bias, x):
    def closure():
        optimizer.zero_grad()
        loss = (weight.mv(x) + bias).pow(2).sum()
        loss.backward()
        return loss

    return closure


def step_schedulers(schedulers, loss):
    for s in schedulers:
        if isinstance(s, ReduceLROnPlateau):
            s.step(loss.item())
        else:
            s.step()


def assert_moved_right_way(kwargs, before, after, desc=""):
    if kwargs.get("maximize", False):
        assert after > before, desc
    else:
        assert after < before, desc


# --- the loss goes the right way ------------------------------------------------------------


def test_optim_infos_do_not_specify_global_cliquey_kwargs(info):
    for optim_input in info.optim_inputs_func(device=DEVICE):
        assert not {"foreach", "fused", "differentiable"} & set(optim_input.kwargs)


def test_errors(info):
    for error_input in info.optim_error_inputs_func(device=DEVICE, dtype=DTYPE):
        optim_input = error_input.optimizer_error_input
        check = pytest.warns if issubclass(error_input.error_type, Warning) else pytest.raises
        with check(error_input.error_type, match=error_input.error_regex):
            info.optim_cls(optim_input.params, **optim_input.kwargs)


@pytest.mark.parametrize("with_lrsched", [True, False])
@pytest.mark.parametrize("contiguous", [True, False])
def test_forloop_goes_right_direction(info, contiguous, with_lrsched):
    torch.manual_seed(0)
    for schedulers_c in info.scheduler_inputs if with_lrsched else [[]]:
        for optim_input in info.optim_inputs_func(device=DEVICE):  # fresh: tensor lrs mutate
            kwargs = {**optim_input.kwargs, "foreach": False}
            weight, bias, x = weight_bias_input(contiguous)
            optimizer = info.optim_cls([weight, bias], **kwargs)
            schedulers = [s(optimizer) for s in schedulers_c]
            closure = quadratic_closure(optimizer, weight, bias, x)
            initial = closure().item()
            for _ in range(20):
                loss = closure()
                optimizer.step()
                step_schedulers(schedulers, loss)
            assert_moved_right_way(kwargs, initial, closure().item(), optim_input.desc)


def test_param_group_with_lrscheduler_goes_right_direction(info):
    torch.manual_seed(0)
    for schedulers_c in info.scheduler_inputs:
        weight, bias, x = weight_bias_input()
        optimizer = info.optim_cls([{"params": [weight]}, {"params": [bias], "lr": 0.01}])
        schedulers = [s(optimizer) for s in schedulers_c]
        closure = quadratic_closure(optimizer, weight, bias, x)
        initial = closure().item()
        for _ in range(20):
            step_schedulers(schedulers, optimizer.step(closure))
        assert closure().item() < initial


def test_tensor_lr(info):
    torch.manual_seed(0)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        for shape in [(), (1,), (1, 1)]:
            weight, bias, x = weight_bias_input()
            weight_c = weight.detach().clone().requires_grad_(True)
            bias_c = bias.detach().clone().requires_grad_(True)
            kwargs = {k: v for k, v in optim_input.kwargs.items() if k != "lr"}
            reference = info.optim_cls([weight, bias], lr=1e-3, **kwargs)
            optimizer = info.optim_cls([weight_c, bias_c], lr=torch.full(shape, 1e-3), **kwargs)
            for _ in range(5):
                quadratic_closure(reference, weight, bias, x)()
                quadratic_closure(optimizer, weight_c, bias_c, x)()
                reference.step()
                optimizer.step()
                # a float32 tensor holds 1e-3 as 1.00000005e-3: equal to float32 rounding
                torch.testing.assert_close(weight_c, weight)
                torch.testing.assert_close(bias_c, bias)


def test_param_groups_weight_decay(info):
    torch.manual_seed(0)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        weight, bias, x = weight_bias_input()
        optimizer = info.optim_cls(
            [
                dict(params=[weight], **optim_input.kwargs),
                dict(params=[bias], **{**optim_input.kwargs, "weight_decay": 0.0}),
            ]
        )
        initial = (weight.mv(x) + bias).pow(2).sum().item()
        for _ in range(20):
            loss = quadratic_closure(optimizer, weight, bias, x)()
            optimizer.step()
        assert_moved_right_way(optim_input.kwargs, initial, loss.item())


def test_param_groups_lr(info):
    torch.manual_seed(0)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        kwargs = {**optim_input.kwargs}
        kwargs.setdefault("lr", 1e-3)
        weight, bias, x = weight_bias_input()
        irrelevant = Parameter(torch.randn(2))
        irrelevant_clone = irrelevant.detach().clone()
        optimizer = info.optim_cls(
            [dict(params=[weight, bias], **kwargs), dict(params=[irrelevant])], lr=1e-28
        )
        initial = (weight.mv(x) + bias).pow(2).sum().item()
        for _ in range(20):
            loss = quadratic_closure(optimizer, weight, bias, x)()
            irrelevant.grad = torch.rand_like(irrelevant)
            optimizer.step()
        assert_moved_right_way(kwargs, initial, loss.item())
        torch.testing.assert_close(irrelevant.detach(), irrelevant_clone)


# --- complex parameters are their view_as_real twins ------------------------------------------


def test_complex(info):
    torch.manual_seed(0)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        complex_params = [
            torch.randn(10, 5, dtype=torch.complex64, requires_grad=True),
            torch.randn(10, dtype=torch.complex64, requires_grad=True),
            torch.randn(10, 5, dtype=torch.float32, requires_grad=True),  # mixed on purpose
        ]
        real_params = [
            (torch.view_as_real(p) if p.is_complex() else p).detach().clone().requires_grad_()
            for p in complex_params
        ]
        complex_opt = info.optim_cls(complex_params, **optim_input.kwargs)
        real_opt = info.optim_cls(real_params, **optim_input.kwargs)
        for _ in range(3):
            for p, r in zip(complex_params, real_params, strict=True):
                r.grad = torch.randn_like(r)
                p.grad = torch.view_as_complex(r.grad) if p.is_complex() else r.grad.clone()
            complex_opt.step()
            real_opt.step()
            for p, r in zip(complex_params, real_params, strict=True):
                as_real = torch.view_as_real(p) if p.is_complex() else p
                torch.testing.assert_close(as_real, r, rtol=0, atol=0)


def rosenbrock(t):
    x, y = t
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_complex_2d(info):
    """A complex param against its real and imaginary parts as two params. At T > 0 the two
    layouts take the same draws ξ in different places: (re0, im0, re1, im1) for the complex
    param (its view_as_real twin, the contract) and (re0, re1), (im0, im1) for the pair. So at
    T > 0 the check runs on zero gradients: both move by σ ξ, each in its own layout order."""
    temperature = temperature_of(info)
    torch.manual_seed(0)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        if temperature > 0 and optim_input.kwargs.get("weight_decay", 0) != 0:
            continue  # weight decay couples the step to θ, whose layouts differ
        a1 = torch.randn(2, dtype=torch.complex64, requires_grad=True)
        a1_real = a1.real.detach().clone().requires_grad_()
        a1_imag = a1.imag.detach().clone().requires_grad_()
        start = torch.view_as_real(a1.detach()).clone(), a1_real.detach().clone()
        start_imag = a1_imag.detach().clone()
        opt1 = info.optim_cls([a1], **optim_input.kwargs)
        opt2 = info.optim_cls([a1_real, a1_imag], **optim_input.kwargs)
        for _ in range(3):
            opt1.zero_grad()
            opt2.zero_grad()
            if temperature == 0:
                rosenbrock(a1).abs().backward()
                rosenbrock(torch.complex(a1_real, a1_imag)).abs().backward()
                torch.testing.assert_close(a1.grad.real, a1_real.grad)
                torch.testing.assert_close(a1.grad.imag, a1_imag.grad)
            else:
                for p in (a1, a1_real, a1_imag):
                    p.grad = torch.zeros_like(p)
            opt1.step()
            opt2.step()
            if temperature == 0:
                torch.testing.assert_close(a1.real, a1_real)
                torch.testing.assert_close(a1.imag, a1_imag)
            else:
                moved1 = (torch.view_as_real(a1.detach()) - start[0]).flatten()
                moved2 = torch.cat([a1_real.detach() - start[1], a1_imag.detach() - start_imag])
                assert moved1.abs().min() > 0
                torch.testing.assert_close(moved1, moved2)


# --- foreach is the for-loop ------------------------------------------------------------------


def small_net(dtype):
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1), torch.nn.Sigmoid()
    ).to(dtype)


def test_foreach_matches_forloop(info):
    dtype = torch.float64
    x = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], dtype=dtype).reshape(3, 2)
    for optim_input in info.optim_inputs_func(device=DEVICE, dtype=dtype):
        models, optimizers = [], []
        for foreach in (False, True):
            model = small_net(dtype)
            empty = torch.empty((), dtype=dtype, requires_grad=True)  # a 0-dim last param
            empty.grad = torch.rand_like(empty, generator=torch.Generator().manual_seed(3))
            params = [*model.parameters(), empty]
            models.append(model)
            optimizers.append(info.optim_cls(params, **optim_input.kwargs, foreach=foreach))
        for i in range(7):
            for model, optimizer in zip(models, optimizers, strict=True):
                optimizer.zero_grad()
                if i == 3:
                    model[2].requires_grad_(False)  # a frozen layer: no grad, no step
                if i == 5:
                    model[2].requires_grad_(True)
                if i != 2:  # a step with every grad None is a no-op
                    model(x).sum().backward()
                optimizer.step()
            for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
                torch.testing.assert_close(q, p, rtol=0, atol=0)
                for k, v in optimizers[0].state[p].items():
                    torch.testing.assert_close(optimizers[1].state[q][k], v, rtol=0, atol=0)


# --- no gradient, zero gradient ---------------------------------------------------------------


def test_step_is_noop_when_params_have_no_grad(info):
    params = [torch.randn(2, 3, requires_grad=False) for _ in range(2)]
    old = [p.detach().clone() for p in params]
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        optimizer.step(lambda: torch.tensor([1.0]))
        assert all(torch.equal(p, o) for p, o in zip(params, old, strict=True))


def test_step_is_noop_for_zero_grads(info):
    """At T = 0 a zero gradient leaves θ alone; at T > 0 it moves θ by the noise alone,
    sqrt(2 damping lr T) ξ with ξ from a generator seeded as the optimizer's."""
    temperature = temperature_of(info)
    param = torch.randn(5, 1, requires_grad=True)
    for optim_input in all_inputs(info):
        kwargs = optim_input.kwargs
        if kwargs.get("weight_decay", 0) != 0:
            continue  # decays even without a gradient
        # differentiable steps run on a non-leaf copy, as torch's check does
        p = param.clone() if kwargs.get("differentiable") else param.detach().requires_grad_()
        before = p.detach().clone()
        optimizer = info.optim_cls([p], **kwargs)
        p.grad = torch.zeros_like(p)
        optimizer.step(lambda: torch.tensor([1.0]))
        if temperature == 0:
            torch.testing.assert_close(p.detach(), before, rtol=0, atol=0)
        else:
            group = optimizer.param_groups[0]
            lr = float(group["lr"])
            xi = torch.randn(5, 1, generator=torch.Generator().manual_seed(SEED))
            sigma = math.sqrt(2 * group["damping"] * lr * temperature)
            torch.testing.assert_close(p.detach(), before + sigma * xi)


def test_non_empty_state(info):
    model = torch.nn.Linear(5, 5)
    for optim_input in info.optim_inputs_func(device=DEVICE):
        optimizer = info.optim_cls(model.parameters(), **optim_input.kwargs)
        optimizer.zero_grad()
        model(torch.rand(2, 5)).sum().backward()
        optimizer.step()
        assert all(len(state) > 0 for state in optimizer.state.values())


def test_optimizer_can_be_printed(info):
    params = [Parameter(torch.randn(2, 3)) for _ in range(2)]
    for optim_input in all_inputs(info):
        assert "Langevin" in repr(info.optim_cls(params, **optim_input.kwargs))


# --- state_dict: deterministic, older and named dicts, torch.save ------------------------------


def named(params, is_named):
    return [(f"name{i}", p) for i, p in enumerate(params)] if is_named else params


def without_param_names(state_dict):
    state_dict = copy.deepcopy(state_dict)
    for group in state_dict["param_groups"]:
        group.pop("param_names", None)
    return state_dict


def assert_state_dicts_equal(a, b):
    assert a.keys() == b.keys()
    assert a["param_groups"] == b["param_groups"]
    torch.testing.assert_close(a["state"], b["state"], rtol=0, atol=0)
    if "generator_state" in a:
        assert torch.equal(a["generator_state"], b["generator_state"])


@pytest.mark.parametrize("named0", [True, False])
@pytest.mark.parametrize("named1", [True, False])
def test_state_dict_deterministic(info, named0, named1):
    torch.manual_seed(0)
    weight, bias = Parameter(torch.randn(2, 3)), Parameter(torch.randn(2))
    x = torch.randn(3)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        optimizer = info.optim_cls(named([weight, bias], named0), **optim_input.kwargs)
        closure = quadratic_closure(optimizer, weight, bias, x)
        for _ in range(10):
            optimizer.step(closure)
        with torch.no_grad():
            weight_c, bias_c = Parameter(weight.clone()), Parameter(bias.clone())
        optimizer_c = info.optim_cls(named([weight_c, bias_c], named1), **optim_input.kwargs)
        closure_c = quadratic_closure(optimizer_c, weight_c, bias_c, x)
        optimizer_c.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        for _ in range(10):
            optimizer.step(closure)
            optimizer_c.step(closure_c)
            torch.testing.assert_close(weight_c, weight, rtol=0, atol=0)
            torch.testing.assert_close(bias_c, bias, rtol=0, atol=0)
        assert_state_dicts_equal(
            without_param_names(optimizer.state_dict()),
            without_param_names(optimizer_c.state_dict()),
        )
        optimizer_c.param_groups.extend(optimizer_c.param_groups)  # repeated params: same form
        assert (
            without_param_names(optimizer.state_dict())["param_groups"][-1]
            == without_param_names(optimizer_c.state_dict())["param_groups"][-1]
        )


def conv_bn():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(4, 2, 1, stride=2), torch.nn.BatchNorm2d(2))
    return model, torch.rand(1, 4, 16, 16)


def fwd_bwd(optimizer, model, x):
    optimizer.zero_grad()
    loss = model(x).sum()
    loss.backward()
    return loss


def test_can_load_older_state_dict(info):
    for optim_input in all_inputs(info, skip=("differentiable",)):
        model, x = conv_bn()
        optimizer = info.optim_cls(model.parameters(), **optim_input.kwargs)
        for _ in range(3):
            fwd_bwd(optimizer, model, x)
            optimizer.step()
        old = copy.deepcopy(optimizer.state_dict())
        for group in old["param_groups"]:
            for flag in info.not_og_supported_flags:
                group.pop(flag, None)
        optimizer.load_state_dict(old)
        before = [p.detach().clone() for p in model.parameters()]
        fwd_bwd(optimizer, model, x)
        optimizer.step()
        assert any(not torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


@pytest.mark.parametrize("named0", [True, False])
@pytest.mark.parametrize("named1", [True, False])
def test_can_load_from_to_named_state_dict(info, named0, named1):
    for optim_input in all_inputs(info, skip=("differentiable",)):
        model, x = conv_bn()
        params = model.named_parameters() if named0 else model.parameters()
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        for _ in range(3):
            fwd_bwd(optimizer, model, x)
            optimizer.step()
        old = copy.deepcopy(optimizer.state_dict())
        params2 = model.named_parameters() if named1 else model.parameters()
        optimizer2 = info.optim_cls(params2, **optim_input.kwargs)
        optimizer2.load_state_dict(old)
        fwd_bwd(optimizer2, model, x)
        optimizer2.step()
        if named0 or named1:
            names = optimizer2.state_dict()["param_groups"][0]["param_names"]
            assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]


@pytest.mark.parametrize("is_named", [True, False])
def test_save_load_equality_with_weights_only(info, is_named):
    torch.manual_seed(0)
    weight, bias = Parameter(torch.randn(2, 3)), Parameter(torch.randn(2))
    x = torch.randn(3)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        optimizer = info.optim_cls(named([weight, bias], is_named), **optim_input.kwargs)
        for _ in range(3):
            optimizer.step(quadratic_closure(optimizer, weight, bias, x))
        sd = optimizer.state_dict()
        for weights_only in (False, True):
            buffer = io.BytesIO()
            torch.save(sd, buffer)
            buffer.seek(0)
            assert_state_dicts_equal(torch.load(buffer, weights_only=weights_only), sd)


def test_load_nontensor_step(info):
    params = [Parameter(torch.randn(2, 3)) for _ in range(2)]
    for p in params:
        p.grad = torch.rand_like(p)
    for optim_input in all_inputs(info, skip=("differentiable",)):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        for _ in range(3):
            optimizer.step()
        state_dict = copy.deepcopy(optimizer.state_dict())
        for p_state in state_dict["state"].values():
            if torch.is_tensor(p_state.get("step")):
                p_state["step"] = p_state["step"].item()
        optimizer.load_state_dict(state_dict)
        optimizer.step()


# --- hooks ------------------------------------------------------------------------------------


def _sd_pre_hook(optimizer):
    optimizer.state["test"] = 1


def _sd_post_hook(optimizer, state_dict):
    state_dict["ran_state_dict_pre_hook"] = "test" in state_dict["state"]
    state_dict["state"].pop("test", None)
    state_dict["saw_generator_state"] = "generator_state" in state_dict
    return state_dict


def test_state_dict_pre_hook(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        optimizer.register_state_dict_pre_hook(_sd_pre_hook)
        assert optimizer.state_dict()["state"]["test"] == 1


def test_state_dict_post_hook(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        optimizer.register_state_dict_post_hook(_sd_post_hook)
        state_dict = optimizer.state_dict()
        assert state_dict["ran_state_dict_pre_hook"] is False
        # the generator state is part of what a post-hook sees (issue 11)
        assert state_dict["saw_generator_state"] is (optimizer.generator is not None)


def test_state_dict_pre_post_hook(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        optimizer.register_state_dict_pre_hook(_sd_pre_hook)
        optimizer.register_state_dict_post_hook(_sd_post_hook)
        state_dict = optimizer.state_dict()
        assert "test" not in state_dict["state"]
        assert state_dict["ran_state_dict_pre_hook"] is True


def _load_pre_hook1(optimizer, state_dict):
    state_dict["param_groups"][0]["lr"] = 0.002


def _load_pre_hook2(optimizer, state_dict):
    state_dict = copy.deepcopy(state_dict)  # a returned dict is the one loaded
    state_dict["param_groups"][0]["lr"] = 0.003
    return state_dict


def _load_post_hook(optimizer):
    lr = optimizer.param_groups[0]["lr"]
    optimizer.state["ran_load_state_dict_pre_hook2"] = bool(lr == 0.003)
    optimizer.state["ran_load_state_dict_post_hook"] = True


def test_load_state_dict_pre_hook_and_prepend(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        state_dict = optimizer.state_dict()
        optimizer.register_load_state_dict_pre_hook(_load_pre_hook1)
        optimizer.load_state_dict(state_dict)
        assert optimizer.param_groups[0]["lr"] == 0.002
        optimizer.register_load_state_dict_pre_hook(_load_pre_hook2, prepend=True)
        optimizer.load_state_dict(state_dict)
        assert optimizer.param_groups[0]["lr"] == 0.002  # hook1 runs last and wins


def test_load_state_dict_post_hook(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        optimizer.register_load_state_dict_post_hook(_load_post_hook)
        optimizer.load_state_dict(optimizer.state_dict())
        assert optimizer.state["ran_load_state_dict_pre_hook2"] is False
        assert optimizer.state["ran_load_state_dict_post_hook"] is True


def test_load_state_dict_pre_post_hook(info):
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls([torch.rand(2, 3, requires_grad=True)], **optim_input.kwargs)
        optimizer.register_load_state_dict_pre_hook(_load_pre_hook2)
        optimizer.register_load_state_dict_post_hook(_load_post_hook)
        optimizer.load_state_dict(optimizer.state_dict())
        assert optimizer.state["ran_load_state_dict_pre_hook2"] is True
        assert optimizer.state["ran_load_state_dict_post_hook"] is True


def recorder(out, value=None):
    """A step hook that appends ``value`` (or its arguments) to ``out``."""

    def hook(*args):
        out.append(args if value is None else value)

    return hook


def test_step_post_hook(info):
    params = [torch.tensor([1.0, 1.0])]
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        calls = []
        handle = optimizer.register_step_post_hook(recorder(calls))
        optimizer.step()
        optimizer.step()
        assert len(calls) == 2 and calls[0][0] is optimizer
        handle.remove()
        optimizer.step()
        assert len(calls) == 2


def test_step_pre_hook(info):
    params = [torch.tensor([1.0, 1.0])]
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        calls = []
        handle = optimizer.register_step_pre_hook(recorder(calls))
        optimizer.step()
        optimizer.step()
        assert len(calls) == 2 and calls[0][0] is optimizer
        handle.remove()
        optimizer.step()
        assert len(calls) == 2


def test_step_all_hooks(info):
    params = [torch.tensor([1.0, 1.0])]
    for optim_input in all_inputs(info):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        sgd = torch.optim.SGD(params)
        data = []
        handles = [
            register_optimizer_step_pre_hook(recorder(data, 0)),
            register_optimizer_step_post_hook(recorder(data, 5)),
        ]
        try:
            for opt in (optimizer, sgd):
                handles.append(opt.register_step_pre_hook(recorder(data, 1)))
                handles.append(opt.register_step_post_hook(recorder(data, 2)))
            optimizer.step()
            sgd.step()
            optimizer.step()
            assert data == [0, 1, 2, 5] * 3
        finally:
            for handle in handles:
                handle.remove()
        optimizer.step()
        sgd.step()
        assert data == [0, 1, 2, 5] * 3


# --- copies, differentiable, sparse -----------------------------------------------------------


def test_deepcopy_copies_all_public_attrs(info):
    params = [Parameter(torch.randn(2, 3)) for _ in range(2)]
    for p in params:
        p.grad = torch.rand_like(p)

    def public(obj):
        return {k for k in obj.__dict__ if not k.startswith("_")}

    for optim_input in all_inputs(info, skip=("differentiable",)):
        optimizer = info.optim_cls(params, **optim_input.kwargs)
        for _ in range(3):
            optimizer.step()
        twin = copy.deepcopy(optimizer)
        assert public(optimizer) == public(twin)
        if optimizer.generator is not None:  # the copy draws the same noise next
            assert torch.equal(twin.generator.get_state(), optimizer.generator.get_state())


def one_differentiable_step(cls, kwargs, p, grad, velocity, lr):
    """θ' and v' after one step from (θ, g, v) as a function autograd can differentiate."""
    p = p.clone()
    p.grad = grad
    optimizer = cls([p], lr=lr, differentiable=True, **kwargs)
    optimizer.state[p]["velocity"] = velocity.clone()
    optimizer.step()
    return p, optimizer.state[p]["velocity"]


def test_differentiable(info):
    """d(θ', v')/d(θ, g, v, lr) by autograd through step() agree with finite differences
    (gradcheck), noise included at T > 0: each call re-seeds, so the noise is a constant."""
    for optim_input in info.optim_inputs_func(device=DEVICE):
        kwargs = {k: v for k, v in optim_input.kwargs.items() if k != "lr"}
        g = torch.Generator().manual_seed(7)
        p, grad, velocity = (torch.randn(10, generator=g, dtype=torch.float64) for _ in "pgv")
        lr = torch.tensor(0.01, dtype=torch.float64)
        inputs = tuple(t.requires_grad_() for t in (p, grad, velocity, lr))
        fn = functools.partial(one_differentiable_step, info.optim_cls, kwargs)
        assert torch.autograd.gradcheck(fn, inputs)


def test_sparse_gradients_are_refused(info):
    """supports_sparse=False: a sparse gradient is a ValueError, not a wrong step."""
    for optim_input in all_inputs(info):
        emb = torch.nn.Embedding(4, 3, sparse=True)
        emb(torch.tensor([1, 2])).sum().backward()
        optimizer = info.optim_cls(emb.parameters(), **optim_input.kwargs)
        with pytest.raises(ValueError, match="sparse"):
            optimizer.step()
