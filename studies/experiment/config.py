"""One run, frozen: everything that determines its result, its content hash and its name."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from studies.data.catalog import DATASETS
from studies.data.custom import CustomDataset
from studies.experiment.registry import get_variant

# (lowest, highest) of each diagnostics integer: the subset is a share of a training split
_DIAGNOSTICS_LIMITS = {"subset": (2, 100_000), "iterations": (0, 1_000), "probes": (0, 1_000)}


@dataclass(frozen=True)
class DiagnosticsBudget:
    """What the loss-landscape diagnostics of a torch run may spend (studies.experiment.
    diagnostics): ``subset`` training samples (fixed indices), ``iterations`` Lanczos steps for
    the top Hessian eigenvalue, ``probes`` Rademacher probes for Hutchinson's trace. 0
    iterations and 0 probes turn them off. Not part of a run's hash (training is unchanged)."""

    subset: int = 512
    iterations: int = 16  # Lanczos: on moons 12 steps missed the top eigenvalue, 16 found it
    probes: int = 6

    def __post_init__(self) -> None:
        for name, (low, high) in _DIAGNOSTICS_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"`{low} <= {name} <= {high}` must hold, but got {name}={value!r}")


def derive_seed(base_seed: int, dataset: str, repetition: int, data_seed: int = 0) -> int:
    """Training seed of repetition ``repetition`` on split ``data_seed`` of ``dataset``; the same
    for every variant (paired). Split 0 keeps the seeds of the releases before splits existed."""
    split = f"/{data_seed}" if data_seed else ""
    text = f"{base_seed}/{dataset}/{repetition}{split}".encode()
    return int(hashlib.sha256(text).hexdigest()[:8], 16)


def _params_json(params: Mapping) -> str:
    return json.dumps(dict(params), sort_keys=True, default=float)


@dataclass(frozen=True)
class RunConfig:
    """A run of ``variant`` on ``dataset`` (repetition ``seed``, ``depth`` layers).

    ``params`` override the variant's defaults (``Variant.resolve``: unknown names and bad values
    raise ValueError); after construction they are the complete, coerced set. ``params_source``
    and the study fields say where they came from and are not part of the hash (equal parameters
    give the same result). ``compile`` (torch.compile of the training forward pass) IS part of
    the hash when on: compiled kernels round differently (per-epoch losses differ by ~3e-5
    relative from eager after 20 epochs), so a compiled run is a different run; off, the hash is
    the one runs had before the option existed.
    """

    variant: str
    dataset: str
    seed: int
    depth: int
    epochs: int
    params: Mapping = field(default_factory=dict)
    data_seed: int = 0
    base_seed: int = 0
    device: str = "cpu"
    compile: bool = False
    grid: str = ""
    params_source: str = "defaults"
    study_name: str | None = None
    trial_number: int | None = None
    sweep: tuple[tuple[str, float | int], ...] = ()  # swept (name, value)s, in the grid's order
    diagnostics: DiagnosticsBudget = field(default_factory=lambda: DiagnosticsBudget())
    custom_dataset: CustomDataset | None = None  # the user's file `dataset` names, if any

    def __post_init__(self) -> None:
        entry = get_variant(self.variant)
        if isinstance(self.custom_dataset, Mapping):
            object.__setattr__(self, "custom_dataset", CustomDataset(**self.custom_dataset))
        custom = self.custom_dataset
        if custom is not None and custom.name != self.dataset:
            raise ValueError(f"custom dataset {custom.name!r} given for dataset {self.dataset!r}")
        if self.dataset not in DATASETS and custom is None:
            raise ValueError(f"unknown dataset {self.dataset!r}; known: {', '.join(DATASETS)}")
        if self.depth not in entry.depths:
            known = ", ".join(map(str, entry.depths))
            raise ValueError(f"unknown depth {self.depth!r} for {self.variant}; known: {known}")
        for name in ("seed", "data_seed", "base_seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name} >= 0` must hold, but got {name}={value!r}")
        if not isinstance(self.compile, bool):
            raise ValueError(f"`compile` must be True or False, but got compile={self.compile!r}")
        if self.compile and entry.family == "sklearn":
            raise ValueError(f"compile=True needs a torch variant, but {self.variant} is sklearn")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"`epochs >= 1` must hold, but got epochs={self.epochs!r}")
        # The one merge: the variant's defaults with these parameters, validated and coerced
        # to their declared kinds before anything is hashed.
        object.__setattr__(self, "params", MappingProxyType(entry.resolve(self.params)))
        # the swept values are in params (so in the hash); the sweep only names them
        sweep = tuple((str(k), v) for k, v in self.sweep)
        for key, value in sweep:
            if key not in self.params or self.params[key] != value:
                raise ValueError(
                    f"swept {key}={value!r} must be the run's parameter, but got "
                    f"{key}={self.params.get(key)!r}"
                )
        object.__setattr__(self, "sweep", sweep)
        if isinstance(self.diagnostics, Mapping):
            object.__setattr__(self, "diagnostics", DiagnosticsBudget(**self.diagnostics))

    @property
    def settings(self) -> Mapping:
        return get_variant(self.variant).settings

    @property
    def family(self) -> str:
        return get_variant(self.variant).family

    @property
    def train_seed(self) -> int:
        return derive_seed(self.base_seed, self.dataset, self.seed, self.data_seed)

    @property
    def name(self) -> str:
        """``full[dataset=moons,seed=3,depth=2]``; a data split other than 0 and the swept
        values are named too: ``full[dataset=mnist,seed=0,depth=2,temperature=0.0]``."""
        split = f",data_seed={self.data_seed}" if self.data_seed else ""
        swept = "".join(f",{k}={v!r}" for k, v in self.sweep)
        return (
            f"{self.variant}[dataset={self.dataset},seed={self.seed}{split},"
            f"depth={self.depth}{swept}]"
        )

    @property
    def sweep_text(self) -> str | None:
        """The ``sweep`` column: ``temperature=0.0`` (``;``-separated), None when unswept."""
        return ";".join(f"{k}={v!r}" for k, v in self.sweep) or None

    def hashed(self) -> dict:
        """Everything in the configuration that determines the result (the run key is a hash of
        this); the code and data are checked through ``fingerprint.run_fingerprint``."""
        compiled = {"compile": True} if self.compile else {}  # off: the ids of earlier releases
        # a user's file: its content (not its path) is part of the identity
        custom = self.custom_dataset
        data = {"data_fingerprint": custom.fingerprint} if custom is not None else {}
        return {
            **compiled,
            **data,
            # a constant: the code is checked by its fingerprint, not by a hand-bumped number;
            # kept in the hash so that every stored run keeps its id
            "code_version": "1",
            "variant": self.variant,
            "family": self.family,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "data_seed": self.data_seed,
            "train_seed": self.train_seed,
            "seed": self.seed,
            "depth": self.depth,
            "epochs": self.epochs,
            "params": json.loads(_params_json(self.params)),
            "device": self.device.split(":")[0],
        }

    @property
    def run_id(self) -> str:
        text = json.dumps(self.hashed(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_kwargs(self) -> dict:
        """Plain constructor arguments (picklable: configs cross process boundaries as these)."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs["params"] = dict(self.params)
        kwargs["diagnostics"] = dataclasses.asdict(self.diagnostics)
        if self.custom_dataset is not None:
            kwargs["custom_dataset"] = dataclasses.asdict(self.custom_dataset)
        return kwargs

    def as_dict(self) -> dict:
        """JSON-safe description, stored with the run."""
        return {
            **self.hashed(),
            "grid": self.grid,
            "params_source": self.params_source,
            "study_name": self.study_name,
            "trial_number": self.trial_number,
            "sweep": self.sweep_text,
            "diagnostics": dataclasses.asdict(self.diagnostics),
            **({"data_path": self.custom_dataset.path} if self.custom_dataset else {}),
        }


def check_seed_batch(cap: int | None) -> None:
    """``cap`` (members per population; None: a whole cell) is None or a positive integer."""
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise ValueError(f"`population >= 1` must hold, but got population={cap!r}")
