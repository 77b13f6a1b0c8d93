"""The dataset catalogue: what each dataset is, known without loading it (nor importing torch).

``datasets.py`` loads them; this module is what `landau list`, grid specs and run configs need.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATASETS", "DatasetInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, known without loading it."""

    name: str
    description: str
    n_features: int
    n_classes: int
    embedded: bool  # False when the data must be read from files (mnist)
    two_d: bool  # True when decision boundaries can be drawn over the feature plane

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError(f"a dataset name must be non-empty, but got name={self.name!r}")
        if self.n_features < 1:
            raise ValueError(f"`n_features >= 1` must hold, but got n_features={self.n_features}")
        if self.n_classes < 2:
            raise ValueError(f"`n_classes >= 2` must hold, but got n_classes={self.n_classes}")
        if self.two_d != (self.n_features == 2):
            raise ValueError(
                f"`two_d == (n_features == 2)` must hold, but got two_d={self.two_d}, "
                f"n_features={self.n_features}"
            )


def _registry(*infos: DatasetInfo) -> dict[str, DatasetInfo]:
    out: dict[str, DatasetInfo] = {}
    for info in infos:
        if info.name in out:
            raise ValueError(f"duplicate dataset name {info.name!r}")
        out[info.name] = info
    return out


DATASETS: dict[str, DatasetInfo] = _registry(
    DatasetInfo("moons", "two interleaving half-moons, noise 0.2", 2, 2, True, True),
    DatasetInfo("circles", "two concentric circles, noise 0.1, factor 0.5", 2, 2, True, True),
    DatasetInfo("classification", "two Gaussian clusters (make_classification)", 2, 2, True, True),
    DatasetInfo("digits", "scikit-learn 8x8 handwritten digits", 64, 10, True, False),
    DatasetInfo("mnist1d", "MNIST-1D (Greydanus 2020), 4000 generated", 40, 10, True, False),
    DatasetInfo("mnist", "MNIST 28x28 digits, read from IDX files", 784, 10, False, False),
)
