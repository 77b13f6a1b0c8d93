"""Every hyperparameter a registry entry may take, declared once: its kind and its constraint.

A value travels preset -> variant defaults -> grid ``[params]`` / ``--set`` -> tuned value ->
run config -> the object that uses it. It is validated and coerced here, once, where it enters a
run config (``Variant.resolve``): an unknown name is refused with the known ones listed, a value
of the wrong type or outside its range is refused naming the rule, and an accepted value is
coerced to its declared kind before it is hashed (``temperature = 0`` and ``0.0`` are one run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

__all__ = ["HYPERPARAMETERS", "MAX_BATCH", "MAX_HIDDEN", "MAX_ITER", "Hyperparameter", "coerce"]


@dataclass(frozen=True)
class Hyperparameter:
    """``kind`` is ``float`` or ``int``; ``low``/``high`` bound it (``open_low``: strictly)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    meaning: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("float", "int"):
            raise ValueError(f"unknown kind {self.kind!r} for {self.name}; known: float, int")
        if self.kind == "int" and (self.low is None or self.high is None):
            raise ValueError(  # a size without a maximum can ask for any amount of memory
                f"integer hyperparameter {self.name} must declare low and high, but got "
                f"low={self.low}, high={self.high}"
            )

    def rule(self) -> str:
        if self.low is not None and self.high is not None:
            low, high = "<" if self.open_low else "<=", "<" if self.open_high else "<="
            return f"{self.low:g} {low} {self.name} {high} {self.high:g}"
        parts = []
        if self.low is not None:
            parts.append(f"{self.name} {'>' if self.open_low else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{self.name} {'<' if self.open_high else '<='} {self.high:g}")
        return " and ".join(parts) or f"{self.name} finite"

    def coerce(self, value: Any) -> float | int:
        """``value`` as this parameter's kind; ValueError naming the rule otherwise."""
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(
                f"`{self.name}` must be a number ({self.kind}), but got {self.name}={value!r}"
            )
        if not math.isfinite(float(value)):
            raise ValueError(f"`{self.name}` must be finite, but got {self.name}={value!r}")
        if self.kind == "int":
            if not isinstance(value, Integral) and not float(value).is_integer():
                raise ValueError(f"`{self.name}` must be an integer, but got {self.name}={value!r}")
            value = int(value)
        else:
            value = float(value)
        low_bad = self.low is not None and (
            value <= self.low if self.open_low else value < self.low
        )
        high_bad = self.high is not None and (
            value >= self.high if self.open_high else value > self.high
        )
        if low_bad or high_bad:
            raise ValueError(f"`{self.rule()}` must hold, but got {self.name}={value!r}")
        return value


# The largest integer values: hidden 16384 at depth 2 on MNIST is ~281 M parameters (~4.5 GB
# with gradients and optimizer state); a bigger batch than MNIST's 60000 samples is full-batch.
MAX_HIDDEN = 16_384
MAX_BATCH = 65_536
MAX_ITER = 100_000


def _p(name, kind="float", low=None, high=None, *, open_low=False, open_high=False, meaning=""):
    return Hyperparameter(name, kind, low, high, open_low, open_high, meaning)


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    p.name: p
    for p in (
        _p("lr", low=0, open_low=True, meaning="learning rate"),
        _p("damping", low=0, meaning="Langevin friction (velocity decay per step)"),
        _p("temperature", low=0, meaning="Langevin temperature"),
        _p("alpha", meaning="GL quadratic coefficient"),
        _p("gamma", meaning="GL quartic coefficient"),
        _p("beta_init", meaning="initial β"),
        _p("dt", low=0, open_low=True, meaning="Allen–Cahn time step"),
        _p("kappa", low=0, meaning="Allen–Cahn gradient-energy coefficient"),
        # integers have a maximum: a size past it is a typo (or gigabytes), refused up front
        _p("hidden", "int", low=1, high=MAX_HIDDEN, meaning="hidden units per layer"),
        _p(
            "batch_size",
            "int",
            low=2,
            high=MAX_BATCH,
            meaning="training batch size (BatchNorm needs 2)",
        ),
        _p("momentum", low=0, high=1, open_high=True, meaning="SGD momentum"),
        _p("weight_decay", low=0, meaning="L2 weight decay"),
        _p("C", low=0, open_low=True, meaning="inverse regularisation strength (logreg)"),
        _p("max_iter", "int", low=1, high=MAX_ITER, meaning="lbfgs iterations (logreg)"),
    )
}


def coerce(name: str, value: Any) -> float | int:
    """``value`` for the declared parameter ``name`` (ValueError lists the known names)."""
    try:
        spec = HYPERPARAMETERS[name]
    except KeyError:
        raise ValueError(
            f"unknown parameter {name!r}; known: {', '.join(sorted(HYPERPARAMETERS))}"
        ) from None
    return spec.coerce(value)
