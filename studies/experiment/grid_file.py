"""Grid files: the TOML a grid is written in (``ablations/grids/NAME.toml`` or a path), its keys
and their types checked once, turned into a :class:`~studies.experiment.grid.GridSpec`. Its
``plugins`` (modules declaring the user's own variants) are loaded before anything else."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from studies.data.custom import custom_dataset
from studies.experiment.config import DiagnosticsBudget
from studies.experiment.grid import DEPTHS, GridSpec, TuningBudget
from studies.experiment.plugins import load_plugins

__all__ = ["grid_from_dict", "grid_names", "load_grid"]

_KEYS = {
    "name",
    "description",
    "variants",
    "datasets",
    "seeds",
    "depths",
    "epochs",
    "base_seed",
    "data_seed",
    "data_seeds",
    "preset",
    "params",
    "tuning",
    "sweep",
    "diagnostics",
    "dataset_epochs",
    "custom_datasets",
    "plugins",
}
_TUNING_KEYS = {"trials", "epochs", "seed", "pruner", "population"}


def grid_names() -> list[str]:
    """Names of the grids shipped in ablations/grids/."""
    folder = resources.files("ablations") / "grids"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_grid(spec: str | Path) -> GridSpec:
    """A grid by name (ablations/grids/NAME.toml) or by path to a TOML file."""
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ValueError(f"grid file {str(path)!r} does not exist")
        text, origin, base = path.read_text(), str(path), path.resolve().parent
    else:
        if str(spec) not in grid_names():
            raise ValueError(
                f"unknown grid {str(spec)!r}; known: {', '.join(grid_names())} "
                "(or a path to a .toml file)"
            )
        text = (resources.files("ablations") / "grids" / f"{spec}.toml").read_text()
        origin = f"ablations/grids/{spec}.toml"
        base = None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML in {origin}: {exc}") from None
    return grid_from_dict(data, origin, default_name=path.stem, base=base)


_TYPES = {
    "name": (str, "a string"),
    "description": (str, "a string"),
    "variants": (list, "a list of variant names"),
    "datasets": (list, "a list of dataset names"),
    "seeds": (int, "an integer"),
    "depths": (list, "a list of integers"),
    "epochs": (int, "an integer"),
    "base_seed": (int, "an integer"),
    "data_seed": (int, "an integer"),
    "data_seeds": (int, "an integer"),
    "preset": (str, "a string"),
    "params": (dict, "a table ([params])"),
    "tuning": (dict, "a table ([tuning])"),
    "sweep": (dict, "a table ([sweep])"),
    "diagnostics": (dict, "a table ([diagnostics])"),
    "dataset_epochs": (dict, "a table ([dataset_epochs])"),
    "custom_datasets": (dict, "a table of tables ([custom_datasets.NAME])"),
    "plugins": (list, "a list of module names"),
}


def _check_types(data: dict, origin: str) -> None:
    for key, (kind, what) in _TYPES.items():
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{origin}: `{key}` must be {what}, but got {key}={value!r}")
        if kind is list and key != "depths" and not all(isinstance(v, str) for v in value):
            raise ValueError(f"{origin}: `{key}` must be {what}, but got {key}={value!r}")


_DIAGNOSTICS_KEYS = {"subset", "iterations", "probes"}


def _diagnostics(table: dict, origin: str) -> DiagnosticsBudget:
    bad = set(table) - _DIAGNOSTICS_KEYS
    if bad:
        raise ValueError(
            f"unknown keys {sorted(bad)} in [diagnostics] of {origin}; "
            f"known: {', '.join(sorted(_DIAGNOSTICS_KEYS))}"
        )
    return DiagnosticsBudget(**table)


def _custom_datasets(tables: dict, origin: str, base: Path | None) -> dict:
    """``[custom_datasets.NAME]`` tables: each file read and checked (``path`` relative to the
    grid file's folder, else to the current one)."""
    base = base if base is not None else Path.cwd()
    return {name: custom_dataset(name, table, base, origin) for name, table in tables.items()}


def grid_from_dict(
    data: dict, origin: str = "<dict>", default_name: str = "custom", base: Path | None = None
) -> GridSpec:
    """The grid ``data`` declares; its ``plugins`` are imported first (``base``, the grid
    file's folder, searched first), so that its variants may be theirs."""
    unknown = set(data) - _KEYS
    if unknown:
        raise ValueError(
            f"unknown keys {sorted(unknown)} in {origin}; known: {', '.join(sorted(_KEYS))}"
        )
    for key in ("variants", "datasets"):
        if key not in data:
            raise ValueError(f"{origin} must list `{key}`")
    _check_types(data, origin)
    try:
        load_plugins(data.get("plugins", []), base)
    except ValueError as exc:
        raise ValueError(f"{origin}: {exc}") from None
    custom = _custom_datasets(data.get("custom_datasets", {}), origin, base)
    tuning = dict(data.get("tuning", {}))
    bad = set(tuning) - _TUNING_KEYS
    if bad:
        raise ValueError(
            f"unknown keys {sorted(bad)} in [tuning] of {origin}; "
            f"known: {', '.join(sorted(_TUNING_KEYS))}"
        )
    tuning.setdefault("data_seed", data.get("data_seed", 0))  # trials: the grid's first split
    if tuning.get("epochs") == "dataset":  # each study trains its dataset's grid budget
        tuning["epochs"] = data.get("epochs", 20)
        tuning["dataset_epochs"] = tuple(dict(data.get("dataset_epochs", {})).items())
    elif isinstance(tuning.get("epochs"), str):
        raise ValueError(
            f'[tuning] epochs of {origin} must be an integer or "dataset" (each study '
            f"trains its dataset's budget), but got {tuning['epochs']!r}"
        )
    try:
        return GridSpec(
            name=data.get("name", default_name),
            description=data.get("description", ""),
            variants=tuple(data["variants"]),
            datasets=tuple(data["datasets"]),
            seeds=data.get("seeds", 3),
            depths=tuple(data.get("depths", DEPTHS)),
            epochs=data.get("epochs", 20),
            base_seed=data.get("base_seed", 0),
            data_seed=data.get("data_seed", 0),
            data_seeds=data.get("data_seeds", 1),
            preset=data.get("preset"),
            params=dict(data.get("params", {})),
            tuning=TuningBudget(**tuning),
            sweep=dict(data.get("sweep", {})),
            diagnostics=_diagnostics(data.get("diagnostics", {}), origin),
            dataset_epochs=dict(data.get("dataset_epochs", {})),
            custom_datasets=custom,
        )
    except ValueError as exc:
        raise ValueError(f"{origin}: {exc}") from None
