"""What the training loop hands back: one ``RunRecord`` per run, one ``EpochRecord`` per epoch.

Records cross process boundaries (grid workers send them to the parent, which alone writes the
results store), so both round-trip through ``to_dict()`` / ``from_dict()``. The dicts are strict
JSON: a non-finite float (NaN loss of a cross-entropy model, inf of a diverged run) becomes
``{"__float__": "nan" | "inf" | "-inf"}`` and comes back as the float.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from reports.data import STATUSES  # the data contract is the one source of status names

__all__ = ["STATUSES", "EpochRecord", "RunRecord", "from_json_safe", "to_json_safe"]

_FLOAT_TAG = "__float__"
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_MESH_KEYS = ("x", "y", "pred")


def to_json_safe(value: Any) -> Any:
    """Copy ``value`` into plain JSON types, tagging non-finite floats so they survive."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        return {_FLOAT_TAG: "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}
    if isinstance(value, dict):
        return {str(key): to_json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(item) for item in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return to_json_safe(value.tolist())
    raise ValueError(
        f"record values must be JSON-serialisable (None, bool, int, float, str, list, dict), "
        f"but got {type(value).__name__}: {value!r}"
    )


def from_json_safe(value: Any) -> Any:
    """Inverse of :func:`to_json_safe`."""
    if isinstance(value, dict):
        if len(value) == 1 and _FLOAT_TAG in value:
            return _NONFINITE[value[_FLOAT_TAG]]
        return {key: from_json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json_safe(item) for item in value]
    return value


def _check_keys(cls: type, data: dict[str, Any]) -> None:
    fields = dataclasses.fields(cls)
    known = {f.name for f in fields}
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing, unknown = sorted(required - data.keys()), sorted(data.keys() - known)
    if missing or unknown:
        raise ValueError(
            f"a {cls.__name__} dict must have the fields {', '.join(sorted(known))}, "
            f"but got missing={missing} unknown={unknown}"
        )


def _check_betas(name: str, betas: dict[str, list[float]]) -> None:
    for layer, values in betas.items():
        if not isinstance(layer, str) or not isinstance(values, list) or not values:
            raise ValueError(
                f"{name} must map layer name -> non-empty list of floats, "
                f"but got {layer!r}: {values!r}"
            )


@dataclass(frozen=True)
class EpochRecord:
    """Metrics at the end of one epoch (``epoch`` is 1-based)."""

    epoch: int
    train_loss: float
    loss_quadratic: float  # the three Ginzburg-Landau energy terms; NaN for cross-entropy models
    loss_quartic: float
    loss_spatial: float
    val_accuracy: float
    seconds: float  # cumulative wall seconds at the end of the epoch
    betas: dict[str, list[float]]  # layer name -> beta values (one value for a scalar beta)

    def __post_init__(self) -> None:
        if self.epoch < 1:
            raise ValueError(f"`epoch >= 1` must hold (epochs are 1-based), but got {self.epoch}")
        if not self.seconds >= 0:
            raise ValueError(f"`seconds >= 0` must hold, but got seconds={self.seconds}")
        _check_betas("EpochRecord.betas", self.betas)

    def to_dict(self) -> dict[str, Any]:
        return to_json_safe(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        data = from_json_safe(data)
        _check_keys(cls, data)
        return cls(**data)


@dataclass(frozen=True)
class RunRecord:
    """Everything one run produced; the columns of the store's ``runs`` table and more."""

    run_id: str
    name: str
    grid: str
    variant: str
    dataset: str
    seed: int
    depth: int
    epochs: int
    status: str  # one of STATUSES
    error: str | None
    val_accuracy: float | None
    test_accuracy: float | None
    final_train_loss: float | None
    seconds: float
    seconds_per_epoch: float | None
    samples_per_second: float | None
    n_params: int
    epochs_run: int
    device: str
    params: dict[str, float | int | str | bool]
    params_source: str
    study_name: str | None
    trial_number: int | None
    config: dict[str, Any]  # the full frozen run config, JSON-serialisable
    initial_betas: dict[str, list[float]]  # epoch 0
    epoch_records: list[EpochRecord] = field(default_factory=list)
    mesh: dict[str, list] | None = None  # {'x', 'y', 'pred'}: flattened mesh, 2-D datasets only
    data_seed: int | None = None  # the data split (independent splits are paired like seeds)
    n_classes: int | None = None
    chance_accuracy: float | None = None  # majority-class rate of the test split
    collapsed: bool | None = None  # test predictions one class, or accuracy <= chance
    sweep: str | None = None  # the swept parameters and their values, e.g. "temperature=0.0"
    sharpness: float | None = None  # top Hessian eigenvalue of the training loss (final weights)
    hessian_trace: float | None = None  # Hutchinson estimate of the Hessian's trace
    suite_version: str | None = None  # provenance: what ran it, where, under which load
    torch_version: str | None = None
    python_version: str | None = None
    platform: str | None = None
    threads: int | None = None
    load_avg: float | None = None  # 1-minute load average at the start of the run
    seed_batch: int | None = None  # seeds trained as one model with it (seconds are its share)
    code_fingerprint: str | None = None  # the source that produced it (experiment.fingerprint)
    git_revision: str | None = None  # HEAD of the checkout it ran from; None outside git
    git_dirty: bool | None = None  # whether tracked files differed from git_revision
    population: str | None = None  # the population it trained in: its members' ids, hashed

    def __post_init__(self) -> None:
        if not self.run_id:
            raise ValueError("`run_id` must be a non-empty string, but got ''")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; known: {', '.join(STATUSES)}")
        for name in ("seed", "epochs", "epochs_run", "n_params"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name} >= 0` must hold, but got {name}={getattr(self, name)}")
        if self.depth < 1:
            raise ValueError(f"`depth >= 1` must hold, but got depth={self.depth}")
        if self.epochs_run > self.epochs:
            raise ValueError(
                f"`epochs_run <= epochs` must hold, but got epochs_run={self.epochs_run}, "
                f"epochs={self.epochs}"
            )
        if not self.seconds >= 0:
            raise ValueError(f"`seconds >= 0` must hold, but got seconds={self.seconds}")
        bad = [p for p, v in self.params.items() if not isinstance(v, (bool, int, float, str))]
        if bad:
            raise ValueError(f"params must be float, int, str or bool, but got {bad[0]!r}")
        _check_betas("RunRecord.initial_betas", self.initial_betas)
        if any(not isinstance(e, EpochRecord) for e in self.epoch_records):
            raise ValueError("`epoch_records` must hold EpochRecord instances")
        if self.mesh is not None:
            if sorted(self.mesh) != sorted(_MESH_KEYS):
                raise ValueError(f"mesh must have keys x, y, pred, but got {sorted(self.mesh)}")
            sizes = {key: len(self.mesh[key]) for key in _MESH_KEYS}
            if len(set(sizes.values())) != 1:
                raise ValueError(f"mesh x, y and pred must have equal lengths, but got {sizes}")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["epoch_records"] = [e.to_dict() for e in self.epoch_records]
        return to_json_safe(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        data = from_json_safe(data)
        _check_keys(cls, data)
        epochs = [EpochRecord.from_dict(e) for e in data["epoch_records"]]
        return cls(**{**data, "epoch_records": epochs})
