"""Users' own variants and activations, registered from their own modules (docs/plugins.md).

A plugin is a module that declares, as module-level data, ``VARIANTS`` (a sequence of
``ablations.Variant``) and/or ``ACTIVATIONS`` (a mapping name -> elementwise function). It is
loaded from a grid file's ``plugins = ["module"]`` key (imported before the grid expands; the
grid file's folder is searched first) or, when installed, from the entry-point group
``landau_bench.variants`` (``[project.entry-points."landau_bench.variants"]`` in the package's
pyproject.toml, ``mine = "my_pkg.variants"``).
Loading checks every entry before registering any (a bad plugin changes nothing): a module that
fails to import, declares nothing, or reuses a taken name raises one-line ValueError.

Nothing here imports torch until a plugin is loaded (``landau list`` stays fast).
Workers are other processes: ``loaded_plugins()`` names what this one loaded, and
``process.init_process`` loads the same there.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from ablations import LANDAU_OPTIONS, LANDAU_SETTINGS, Variant
from baselines import BASELINES
from studies.experiment.registry import REGISTRY

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRef",
    "load_entry_points",
    "load_plugins",
    "loaded_plugins",
]

ENTRY_POINT_GROUP = "landau_bench.variants"

# The settings keys a plugin entry of each family may set (the model builders read these).
_LANDAU_KEYS = frozenset(LANDAU_SETTINGS) | frozenset(LANDAU_OPTIONS)
_FAMILY_KEYS = {
    "landau": _LANDAU_KEYS,
    "mlp": frozenset(next(b for b in BASELINES if b.family == "mlp").settings),
    "sklearn": frozenset(next(b for b in BASELINES if b.family == "sklearn").settings),
}
_REQUIRED_KEYS = {
    "landau": frozenset(LANDAU_SETTINGS),
    "mlp": _FAMILY_KEYS["mlp"],
    "sklearn": _FAMILY_KEYS["sklearn"],
}


@dataclass(frozen=True)
class PluginRef:
    """A loaded plugin, as a worker process needs it: the module and the folder searched first
    (None: the import path as it is)."""

    module: str
    folder: str | None = None


_LOADED: dict[str, PluginRef] = {}  # module -> how it was loaded (each module once per process)


def loaded_plugins() -> tuple[PluginRef, ...]:
    """The plugins this process loaded, in order (handed to worker processes)."""
    return tuple(_LOADED.values())


def load_plugins(modules: Iterable[str], folder: str | Path | None = None) -> None:
    """Import each of ``modules`` (``folder`` first on the import path) and register what it
    declares. A module loaded before is not loaded again."""
    for module in modules:
        if not isinstance(module, str) or not module:
            raise ValueError(f"plugins must be module names, but got {module!r}")
        if module not in _LOADED:
            _load(PluginRef(module, None if folder is None else str(Path(folder).resolve())))


def load_entry_points() -> None:
    """Load every installed plugin of the entry-point group ``landau_bench.variants`` (each
    entry's value names a module)."""
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.value not in _LOADED:
            _load(PluginRef(entry.value))


def restore(plugins: Iterable[PluginRef | Mapping]) -> None:
    """Load ``plugins`` (``loaded_plugins()`` of another process) in this one."""
    for ref in plugins:
        ref = ref if isinstance(ref, PluginRef) else PluginRef(**ref)
        if ref.module not in _LOADED:
            _load(ref)


def _load(ref: PluginRef) -> None:
    if ref.folder is not None and ref.folder not in sys.path:
        sys.path.insert(0, ref.folder)
    try:
        module = importlib.import_module(ref.module)
    except Exception as exc:  # a user's module may raise anything while importing
        where = f" (searched {ref.folder} first)" if ref.folder else ""
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise ValueError(
            f"plugin {ref.module!r} cannot be imported{where}: {type(exc).__name__}: {reason}"
        ) from None
    variants = getattr(module, "VARIANTS", ())
    activations = dict(getattr(module, "ACTIVATIONS", {}))
    if not variants and not activations:
        raise ValueError(f"plugin {ref.module!r} declares neither VARIANTS nor ACTIVATIONS")
    from landau import ACTIVATIONS, register_activation  # torch: only once a plugin is loaded

    origin = str(Path(module.__file__).resolve())
    known = [*ACTIVATIONS, *activations]
    entries = [_checked(ref.module, v, known, origin) for v in variants]
    for name in activations:
        if name in ACTIVATIONS:
            raise ValueError(f"plugin {ref.module!r}: duplicate activation {name!r}")
    names = [e.name for e in entries]
    for name in names:
        if name in REGISTRY or names.count(name) > 1:
            raise ValueError(f"plugin {ref.module!r}: duplicate variant {name!r}")
    for name, fn in activations.items():
        register_activation(name, fn)
    for entry in entries:
        REGISTRY[entry.name] = entry
    _LOADED[ref.module] = ref


def _checked(module: str, entry: object, activations: list[str], origin: str) -> Variant:
    """``entry`` as a registry entry that remembers its module; its settings must be the ones
    its family's model builder reads, naming a registered (or co-declared) activation."""
    if not isinstance(entry, Variant):
        raise ValueError(
            f"plugin {module!r}: VARIANTS must hold ablations.Variant entries, but got {entry!r}"
        )
    settings = set(entry.settings)
    unknown = sorted(settings - _FAMILY_KEYS[entry.family])
    missing = sorted(_REQUIRED_KEYS[entry.family] - settings)
    if unknown or missing:
        known = ", ".join(sorted(_FAMILY_KEYS[entry.family]))
        raise ValueError(
            f"plugin {module!r}: variant {entry.name!r} ({entry.family}) has settings "
            f"unknown={unknown} missing={missing}; known: {known}"
        )
    act = entry.settings.get("activation")
    if act is not None and act not in activations:
        raise ValueError(
            f"plugin {module!r}: variant {entry.name!r} uses unknown activation {act!r}; "
            f"known: {', '.join(activations)}"
        )
    return replace(entry, origin=origin)
