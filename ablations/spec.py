"""What a registry entry is: a variant (or baseline) declared as data, and its search space."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ablations.hyperparameters import HYPERPARAMETERS, coerce

FAMILIES = ("landau", "mlp", "sklearn")
KINDS = ("float", "int", "categorical")


MAX_NAME = 256  # characters of a grid or experiment name


def check_experiment_name(name: object) -> str:
    """``name`` if it can name an experiment: 1-256 characters, not only spaces, no control
    character (a NUL, a newline or an escape sequence would reach file names, terminals, HTML
    and Markdown); ValueError naming the rule otherwise."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValueError(
            f"an experiment name must be 1-{MAX_NAME} characters, not only spaces, but got "
            f"{name!r}" + (" (leave --experiment out for the default name)" if name == "" else "")
        )
    control = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if control:
        raise ValueError(
            f"an experiment name may not hold control characters, but got {name!r} "
            f"(with {control[0]!r})"
        )
    return name


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: ``low..high`` (log-uniform if ``log``) or ``choices``."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    kind: str = "float"
    choices: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown kind {self.kind!r} for {self.name}; known: {', '.join(KINDS)}"
            )
        if self.kind == "categorical":
            if not self.choices:
                raise ValueError(f"categorical parameter {self.name} needs choices")
            return
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(
                f"`low < high` must hold for {self.name}, but got {self.low}..{self.high}"
            )
        if self.log and not self.low > 0:
            raise ValueError(f"`low > 0` must hold for log-scale {self.name}, but got {self.low}")

    def clip(self, value):
        """``value`` moved into the space (used to enqueue the blog's preset)."""
        if self.kind == "categorical":
            return value if value in self.choices else self.choices[0]
        clipped = min(max(value, self.low), self.high)
        return int(round(clipped)) if self.kind == "int" else float(clipped)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "kind": self.kind,
            "choices": list(self.choices),
        }


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Variant:
    """A registry entry: one model/training recipe, declared relative to the full Landau model.

    ``settings`` are the fixed structural choices (loss terms, optimizer, β update, …) and
    ``defaults`` the hyperparameters used when nothing is tuned; ``search_space`` lists what
    tuning may change. ``depths`` are the depths the entry is defined for. ``origin`` is the
    file of the plugin module that declared the entry ("" for the built-ins): its content joins
    the code fingerprint of the entry's runs.
    """

    name: str
    description: str
    changes: str
    family: str
    settings: Mapping = field(default_factory=dict)
    defaults: Mapping = field(default_factory=dict)
    search_space: tuple[Param, ...] = ()
    depths: tuple[int, ...] = (1, 2)
    origin: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"variant names must be identifiers, but got {self.name!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; known: {', '.join(FAMILIES)}")
        object.__setattr__(self, "settings", _frozen(self.settings))
        object.__setattr__(self, "defaults", _frozen(self.defaults))
        names = [p.name for p in self.search_space]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter in the search space of {self.name}: {names}")
        unknown = set(names) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"search space of {self.name} names parameters without a default: {sorted(unknown)}"
            )
        undeclared = set(self.defaults) - set(HYPERPARAMETERS)
        if undeclared:
            raise ValueError(
                f"{self.name} has defaults for undeclared parameters {sorted(undeclared)}; "
                "declare them in ablations/hyperparameters.py"
            )
        defaults = {k: coerce(k, v) for k, v in self.defaults.items()}
        object.__setattr__(self, "defaults", _frozen(defaults))

    def resolve(self, overrides: Mapping | None = None) -> dict:
        """The defaults with ``overrides`` applied: the one place parameters are merged.

        Every override must be one of this entry's parameters (ValueError lists them) and is
        validated and coerced to its declared kind."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults))
            raise ValueError(f"unknown parameter {unknown[0]!r} for {self.name}; known: {known}")
        return {**self.defaults, **{k: coerce(k, v) for k, v in overrides.items()}}

    @property
    def space_version(self) -> str:
        """Short hash of the search space: a study is tied to the exact space it sampled."""
        text = json.dumps([p.as_dict() for p in self.search_space], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def build_registry(*groups: tuple[Variant, ...]) -> dict[str, Variant]:
    """Merge entries into one name -> Variant dict; a duplicate name raises ValueError."""
    registry: dict[str, Variant] = {}
    for group in groups:
        for entry in group:
            if entry.name in registry:
                raise ValueError(f"duplicate registry entry {entry.name!r}")
            registry[entry.name] = entry
    return registry
