"""Datasets: a registry of classification problems, held in memory as fixed, standardised splits.

x float32 (N, F), y int64 (N,) torch tensors; split (and generated sample) derived from data_seed.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, make_circles, make_classification, make_moons
from sklearn.model_selection import train_test_split

from studies.data.catalog import DATASETS, DatasetInfo
from studies.data.custom import CustomDataset, load_custom
from studies.data.mnist import MNIST_FILES, DatasetNotFoundError, mnist_splits, read_idx
from studies.data.tables import TABLES, load_table, standardise_table

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetSplits",
    "MNIST_FILES",
    "batch_indices",
    "load_dataset",
    "read_idx",
]

_STD_FLOOR = 1e-8  # a feature with a smaller training std is left unscaled (std treated as 1)
_N_GENERATED = 1500
_N_MNIST1D = 4000


@dataclass(frozen=True)
class DatasetSplits:
    """Train/validation/test tensors of one dataset, standardised with training statistics.

    Loaded splits are cached and shared between callers: never modify the tensors in place.
    """

    name: str
    x_train: torch.Tensor  # (N_train, F) float32
    y_train: torch.Tensor  # (N_train,) int64
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_features: int
    n_classes: int

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            shapes_ok = x.ndim == 2 and x.shape[1] == self.n_features and y.shape == x.shape[:1]
            if x.dtype != torch.float32 or y.dtype != torch.int64 or not shapes_ok:
                raise ValueError(
                    f"x_{split} must be float32 (N, {self.n_features}) and y_{split} int64 (N,), "
                    f"but got {x.dtype} {tuple(x.shape)} and {y.dtype} {tuple(y.shape)}"
                )

    def mesh(self, resolution: int = 60) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
        """Fixed grid over the standardised plane for decision-boundary plots.

        Spans the training range +-0.5, rounded outward to multiples of 0.5. Returns xx, yy
        (resolution, resolution) float32 arrays (np.meshgrid) and grid_points (resolution**2, 2).
        """
        self._require_two_d("mesh")
        if resolution < 2:
            raise ValueError(f"`resolution >= 2` must hold, but got resolution={resolution}")
        x = self.x_train.numpy().astype(np.float64)
        lo, hi = np.floor((x.min(0) - 0.5) * 2) / 2, np.ceil((x.max(0) + 0.5) * 2) / 2
        axes = [np.linspace(lo[i], hi[i], resolution, dtype=np.float32) for i in (0, 1)]
        xx, yy = np.meshgrid(*axes)  # (resolution, resolution) each
        grid = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
        return xx, yy, grid

    def points(self, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
        """A fixed subsample of the training split to overlay on plots: x (n, 2), labels (n,)."""
        self._require_two_d("points")
        if n < 1:
            raise ValueError(f"`n >= 1` must hold, but got n={n}")
        n_train = self.x_train.shape[0]
        idx = np.sort(np.random.default_rng(0).choice(n_train, size=min(n, n_train), replace=False))
        return self.x_train.numpy()[idx].copy(), self.y_train.numpy()[idx].copy()

    def _require_two_d(self, what: str) -> None:
        if self.n_features != 2:
            two_d = ", ".join(sorted(k for k, v in DATASETS.items() if v.two_d))
            raise ValueError(
                f"{what}() needs a 2-D dataset, but {self.name!r} has "
                f"n_features={self.n_features}; 2-D datasets: {two_d}"
            )


def batch_indices(
    n: int, batch_size: int, *, generator: torch.Generator, shuffle: bool = True
) -> list[torch.Tensor]:
    """Chop a permutation of range(n) drawn from `generator` into index batches (last one kept)."""
    if batch_size < 1:
        raise ValueError(f"`batch_size >= 1` must hold, but got batch_size={batch_size}")
    if n < 0:
        raise ValueError(f"`n >= 0` must hold, but got n={n}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return list(order.split(batch_size))


def load_dataset(
    name: str,
    *,
    data_seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    custom: CustomDataset | None = None,
) -> DatasetSplits:
    """Load dataset `name` with its split fixed by `data_seed` (cached in-process; do not mutate).

    Generated datasets are sampled with `data_seed` too. MNIST is read from `data_dir`, else from
    the LANDAU_DATA environment variable (files directly there or under MNIST/raw/, .gz or not).
    A user's dataset is named by its spec ``custom`` (a grid's ``[custom_datasets.NAME]``).
    """
    if custom is not None and custom.name != name:
        raise ValueError(f"custom dataset {custom.name!r} given for dataset {name!r}")
    if name not in DATASETS and custom is None:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    if isinstance(data_seed, bool) or not isinstance(data_seed, int) or data_seed < 0:
        raise ValueError(f"`data_seed >= 0` (an int) must hold, but got data_seed={data_seed!r}")
    if custom is not None:
        return _load_cached(name, data_seed, None, custom)
    key_dir = _resolve_data_dir(data_dir) if not DATASETS[name].embedded else None
    return _load_cached(name, data_seed, key_dir)


@functools.lru_cache(maxsize=8)
def _load_cached(
    name: str, data_seed: int, data_dir: Path | None, custom: CustomDataset | None = None
) -> DatasetSplits:
    if custom is not None or name in TABLES:
        table = load_custom(custom) if custom is not None else load_table(name)
        parts = _stratified_splits(table.x, table.y, data_seed)
        xs = standardise_table(*parts[0::2])
        tensors = [torch.from_numpy(a) for pair in zip(xs, parts[1::2], strict=True) for a in pair]
        return DatasetSplits(
            name, *tensors, n_features=table.x.shape[1], n_classes=len(table.classes)
        )
    info = DATASETS[name]
    if name == "mnist":
        parts = mnist_splits(data_dir or _resolve_data_dir(None), data_seed)
    else:
        x, y = _GENERATORS[name](data_seed)
        parts = _stratified_splits(x.astype(np.float32), y.astype(np.int64), data_seed)
    xs = _standardise(*parts[0::2], per_feature=name not in _IMAGES)
    tensors = [torch.from_numpy(a) for pair in zip(xs, parts[1::2], strict=True) for a in pair]
    return DatasetSplits(name, *tensors, n_features=info.n_features, n_classes=info.n_classes)


def _stratified_splits(x: np.ndarray, y: np.ndarray, seed: int) -> list[np.ndarray]:
    """60/20/20 stratified train/val/test split; rows keep their source order within a split."""
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=0.2, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=0.25, stratify=y[rest], random_state=seed)
    return [a for part in (train, val, test) for a in (x[np.sort(part)], y[np.sort(part)])]


# Images are standardised with one mean/std over all training pixels: per-pixel statistics give
# border pixels that are almost always 0 a tiny std, and values in the hundreds where they are not.
_IMAGES = frozenset({"digits", "mnist"})


def _standardise(*xs: np.ndarray, per_feature: bool = True) -> list[np.ndarray]:
    """(x - mean) / std in place, with float64 statistics of xs[0] (the training split):
    per feature, or (``per_feature=False``) one scalar mean/std over all training values."""
    train = xs[0]
    chunks = range(0, len(train), 8192)  # chunked so MNIST needs no float64 copy
    mean = sum(train[i : i + 8192].sum(axis=0, dtype=np.float64) for i in chunks) / len(train)
    if not per_feature:
        mean = np.full_like(mean, mean.mean())
    sq = sum(((train[i : i + 8192] - mean) ** 2).sum(axis=0) for i in chunks)
    if not per_feature:
        sq = np.full_like(sq, sq.sum() / sq.size)
    std = np.sqrt(sq / len(train))
    std[std < _STD_FLOOR] = 1.0
    for x in xs:
        x -= mean.astype(np.float32)
        x /= std.astype(np.float32)
    return list(xs)


def _mnist1d(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generate MNIST-1D locally (never downloads); the global RNG states are restored after."""
    from mnist1d.data import get_dataset_args, make_dataset  # slow import (matplotlib)

    args = get_dataset_args()
    args.num_samples, args.seed = _N_MNIST1D, seed
    # make_dataset seeds and draws from the global RNGs: leave them as we found them
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    return np.concatenate([data["x"], data["x_test"]]), np.concatenate([data["y"], data["y_test"]])


_GENERATORS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray]]] = {
    "moons": lambda seed: make_moons(_N_GENERATED, noise=0.2, random_state=seed),
    "circles": lambda seed: make_circles(_N_GENERATED, noise=0.1, factor=0.5, random_state=seed),
    "classification": lambda seed: make_classification(
        _N_GENERATED,
        n_features=2,
        n_informative=2,
        n_redundant=0,
        n_clusters_per_class=1,
        random_state=seed,
    ),
    "digits": lambda seed: load_digits(return_X_y=True),  # fixed data: only the split varies
    "mnist1d": _mnist1d,
}


def _resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is None:
        data_dir = os.environ.get("LANDAU_DATA") or Path.home() / ".cache" / "landau-bench"
    return Path(data_dir).expanduser().resolve()
