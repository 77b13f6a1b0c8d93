"""Datasets, their fixed splits, and MNIST's IDX reader; the real datasets packages bundle
(``tables``) and the users' own files (``custom``, a grid's ``[custom_datasets.NAME]``).

The catalogue (``DATASETS``, ``DatasetInfo``) imports neither torch nor scikit-learn; the loaders
are imported on first use (PEP 562), so that `landau list` starts quickly.
"""

from studies.data.catalog import DATASETS, DatasetInfo

__all__ = [
    "DATASETS",
    "CustomDataset",
    "MNIST_FILES",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetSplits",
    "batch_indices",
    "load_dataset",
    "read_idx",
]


def __getattr__(name: str):
    if name in ("DatasetSplits", "batch_indices", "load_dataset"):
        from studies.data import datasets

        return getattr(datasets, name)
    if name == "CustomDataset":
        from studies.data.custom import CustomDataset

        return CustomDataset
    if name in ("MNIST_FILES", "DatasetNotFoundError", "read_idx"):
        from studies.data import mnist

        return getattr(mnist, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
