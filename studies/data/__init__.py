"""Datasets, their fixed splits, and MNIST's IDX reader."""

from studies.data.datasets import (
    DATASETS,
    DatasetInfo,
    DatasetSplits,
    batch_indices,
    load_dataset,
)
from studies.data.mnist import MNIST_FILES, DatasetNotFoundError, read_idx

__all__ = [
    "DATASETS",
    "MNIST_FILES",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetSplits",
    "batch_indices",
    "load_dataset",
    "read_idx",
]
