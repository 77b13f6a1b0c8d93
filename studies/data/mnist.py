"""MNIST from its IDX files: the reader, locating the files, the fixed splits.

The files come from ``--data-dir``, ``$LANDAU_DATA`` or the user cache; torchvision (optional,
imported lazily) may download them. Nothing here hard-codes a path.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = ["DatasetNotFoundError", "MNIST_FILES", "read_idx", "mnist_splits"]

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetNotFoundError(ValueError):
    """A dataset's files are missing and could not be downloaded."""


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed when the name ends in .gz)."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"corrupt IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"corrupt IDX file {path}: magic number must be 0x0000 08 NN (ubyte)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"corrupt IDX file {path}: truncated header ({ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(
            f"corrupt IDX file {path}: shape {shape} needs {int(np.prod(shape))} bytes of data, "
            f"but the file holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_mnist(root: Path) -> dict[str, Path]:
    """Map each MNIST file name to its first copy: root or root/MNIST/raw, extracted or .gz."""
    found = {}
    for name in MNIST_FILES:
        candidates = [d / f for d in (root, root / "MNIST" / "raw") for f in (name, f"{name}.gz")]
        hits = [c for c in candidates if c.is_file()]
        if hits:
            found[name] = hits[0]
    return found


def _locate_mnist(root: Path) -> dict[str, Path]:
    found = _find_mnist(root)
    if len(found) < len(MNIST_FILES):
        error = _download_mnist(root)
        found = _find_mnist(root)
        if len(found) < len(MNIST_FILES):
            missing = ", ".join(f"{n}.gz" for n in MNIST_FILES if n not in found)
            raise DatasetNotFoundError(
                f"MNIST files not found: expected {missing} (gzipped or extracted) in {root} "
                f"or {root / 'MNIST' / 'raw'}; {error}; put them there, or pass --data-dir DIR "
                "or set LANDAU_DATA=DIR to a folder that holds them"
            )
    return found


def _download_mnist(root: Path) -> str:
    """Try torchvision's MNIST download into root/MNIST/raw; return why it failed, if it did."""
    try:
        import torchvision  # optional; its compiled ops may fail to load with a CPU-only torch
    except Exception as exc:
        return f"torchvision is unavailable to download them ({type(exc).__name__})"
    try:
        torchvision.datasets.MNIST(str(root), train=True, download=True)
        torchvision.datasets.MNIST(str(root), train=False, download=True)
    except Exception as exc:
        return f"the torchvision download failed ({type(exc).__name__}: {exc})"
    return "torchvision downloaded them, yet some are still missing"


def _read_pair(files: dict[str, Path], prefix: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = read_idx(files[f"{prefix}-labels-idx1-ubyte"])
    images = read_idx(files[f"{prefix}-images-idx3-ubyte"])
    if labels.shape != (n,) or images.shape != (n, 28, 28) or labels.max(initial=0) > 9:
        raise ValueError(
            f"corrupt MNIST {prefix} files: expected images ({n}, 28, 28) and labels ({n},) "
            f"in 0..9, but got {images.shape} and {labels.shape}"
        )
    return images.reshape(n, 784), labels.astype(np.int64)


def mnist_splits(root: Path, seed: int) -> list[np.ndarray]:
    """Official 10k test set; a stratified 10k of the 60k training images for validation."""
    files = _locate_mnist(root)
    x_all, y_all = _read_pair(files, "train", 60_000)
    x_test, y_test = _read_pair(files, "t10k", 10_000)
    split = train_test_split(np.arange(60_000), test_size=10_000, stratify=y_all, random_state=seed)
    train, val = np.sort(split[0]), np.sort(split[1])
    parts = []
    for x, y, idx in ((x_all, y_all, train), (x_all, y_all, val), (x_test, y_test, slice(None))):
        pixels = x[idx].astype(np.float32)  # (N, 784), a fresh copy
        pixels /= 255.0  # scale to [0, 1] before standardising
        parts += [pixels, y[idx]]
    return parts
