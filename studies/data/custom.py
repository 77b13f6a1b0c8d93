"""The users' own datasets: a grid's ``[custom_datasets.NAME]`` table names a file (CSV, parquet
or npz) and its label column; NAME is then a dataset of that grid like the built-in ones.

The file is read and checked once, where the grid is read (bad files are one-line ValueErrors);
the spec keeps its content hash (``fingerprint``), which joins the run identity, so an edited file
makes the grid retrain. Workers read the file again and refuse it if it changed meanwhile.
Preprocessing is the built-in tables' (``studies.data.tables``), except that a missing label is an
error rather than a dropped row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studies.data.catalog import DATASETS, DatasetInfo

__all__ = ["SUFFIXES", "CustomDataset", "custom_dataset", "load_custom"]

SUFFIXES = (".csv", ".parquet", ".npz")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KEYS = {"path", "target"}
_MIN_PER_CLASS = 5  # one row of each class in each split (60/20/20)


@dataclass(frozen=True)
class CustomDataset:
    """A user's dataset as a grid names it: ``path`` (absolute), label column ``target``, and
    what reading it found: its content hash and shape after preprocessing."""

    name: str
    path: str
    target: str
    fingerprint: str  # sha256 of the target's name and the file's bytes, 16 hex digits
    n_samples: int
    n_features: int
    n_classes: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                "a custom dataset's name must be a letter then letters, digits, _ or -, but got "
                f"name={self.name!r}"
            )
        if self.name in DATASETS:
            raise ValueError(
                f"custom dataset {self.name!r} clashes with the built-in dataset of that name; "
                "give it another name"
            )
        for key in ("n_samples", "n_features", "n_classes"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{key} >= 1` must hold, but got {key}={value!r}")

    @property
    def info(self) -> DatasetInfo:
        """Its catalogue entry, as `landau list` and the runner see one."""
        return DatasetInfo(
            self.name,
            f"target {self.target!r}",
            self.n_features,
            self.n_classes,
            True,
            self.n_features == 2,
            f"custom: {self.path}",
            None,
            "",
            self.n_samples,
            "one-hot categoricals; missing values: training mean; standardised with training "
            "statistics",
        )


def custom_dataset(name: str, table: Mapping, base: Path, origin: str) -> CustomDataset:
    """Read and check the file a ``[custom_datasets.NAME]`` table names (``path`` relative to
    the folder ``base`` of the grid file)."""
    where = f"{origin}: [custom_datasets.{name}]"
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table with `path` and `target`, but got {table!r}")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: path, target")
    for key in sorted(_KEYS):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ValueError(f"{where} needs `{key}` (a string), but got {table.get(key)!r}")
    if name in DATASETS:
        raise ValueError(
            f"{where}: the name {name!r} is a built-in dataset; give the custom one another name"
        )
    path = (base / table["path"]).resolve()
    encoded, fingerprint = _read(path, table["target"], where)
    counts = np.bincount(encoded.y)
    if counts.min() < _MIN_PER_CLASS:
        small = encoded.classes[int(counts.argmin())]
        raise ValueError(
            f"{where}: every class needs >= {_MIN_PER_CLASS} rows for a stratified 60/20/20 "
            f"split, but class {small!r} has {int(counts.min())}"
        )
    return CustomDataset(
        name,
        str(path),
        table["target"],
        fingerprint,
        len(encoded.y),
        encoded.x.shape[1],
        len(encoded.classes),
    )


def load_custom(spec: CustomDataset):
    """The file of ``spec`` encoded; ValueError when its content is no longer what the grid
    read (the runs would be stored under the old content's identity)."""
    encoded, fingerprint = _read(Path(spec.path), spec.target, f"custom dataset {spec.name!r}")
    if fingerprint != spec.fingerprint:
        raise ValueError(
            f"custom dataset {spec.name!r}: {spec.path} changed since the grid was read "
            f"(content hash {fingerprint}, expected {spec.fingerprint}); run the grid again"
        )
    return encoded


def _read(path: Path, target: str, where: str):
    from studies.data.tables import encode_table

    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"{where}: unknown file type {path.suffix or '(none)'!r} of {str(path)!r}; "
            f"known: {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise ValueError(f"{where}: no file {str(path)!r}")
    data = path.read_bytes()
    fingerprint = hashlib.sha256(target.encode() + b"\0" + data).hexdigest()[:16]
    frame = _frame(path, where)
    return encode_table(frame, target, missing_labels="raise", origin=where), fingerprint


def _frame(path: Path, where: str):
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        with np.load(path, allow_pickle=False) as arrays:
            return _npz_frame({k: arrays[k] for k in arrays.files}, where)
    except ValueError as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: cannot read {str(path)!r}: {exc}") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{where}: cannot read {str(path)!r}: {exc}") from None


def _npz_frame(arrays: dict[str, np.ndarray], where: str):
    """An npz as a table: each 1-D array a column, each 2-D array (N, F) F columns NAME_0…"""
    import pandas as pd

    columns: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        if value.ndim == 1:
            columns[key] = value
        elif value.ndim == 2:
            columns.update({f"{key}_{i}": value[:, i] for i in range(value.shape[1])})
        else:
            raise ValueError(f"{where}: array {key!r} has shape {value.shape}; give 1-D or 2-D")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{where}: the arrays have different lengths {sorted(lengths)}")
    return pd.DataFrame(columns)
