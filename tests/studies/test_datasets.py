"""Tests for studies.data.datasets: registry, splits, standardisation, MNIST files, batching."""

from __future__ import annotations

import gzip
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from studies.data import catalog
from studies.data import datasets as ds
from studies.data.datasets import (
    DATASETS,
    MNIST_FILES,
    DatasetInfo,
    DatasetNotFoundError,
    DatasetSplits,
    batch_indices,
    load_dataset,
    read_idx,
)

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
EMBEDDED_SIZES = {  # name: (train, val, test, n_features, n_classes)
    "moons": (900, 300, 300, 2, 2),
    "circles": (900, 300, 300, 2, 2),
    "classification": (900, 300, 300, 2, 2),
    "digits": (1077, 360, 360, 64, 10),
    "mnist1d": (2400, 800, 800, 40, 10),
}
GENERATED = ["moons", "circles", "classification", "mnist1d"]


@pytest.fixture
def no_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail


def _splits(d: DatasetSplits) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(d.x_train, d.y_train), (d.x_val, d.y_val), (d.x_test, d.y_test)]


def test_registry_lists_every_dataset_with_a_loader() -> None:
    assert sorted(DATASETS) == sorted([*EMBEDDED_SIZES, "mnist", *ds.TABLES])
    assert set(ds._GENERATORS) | set(ds.TABLES) == {
        n for n, info in DATASETS.items() if info.embedded
    }
    assert [n for n, info in DATASETS.items() if info.two_d] == [
        "moons",
        "circles",
        "classification",
    ]


def test_dataset_info_validates() -> None:
    with pytest.raises(ValueError, match="n_classes >= 2"):
        DatasetInfo("x", "", 2, 1, True, True)
    with pytest.raises(ValueError, match="two_d"):
        DatasetInfo("x", "", 3, 2, True, True)
    with pytest.raises(ValueError, match="duplicate dataset name 'moons'"):
        catalog._registry(DATASETS["moons"], DATASETS["moons"])


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ValueError) as err:
        load_dataset("moon")
    assert str(err.value) == f"unknown dataset 'moon'; known: {', '.join(sorted(DATASETS))}"
    assert "moons" in str(err.value)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_data_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="data_seed >= 0"):
        load_dataset("moons", data_seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(EMBEDDED_SIZES))
def test_shapes_dtypes_and_sizes(name: str) -> None:
    d = load_dataset(name)
    n_train, n_val, n_test, n_features, n_classes = EMBEDDED_SIZES[name]
    assert (d.name, d.n_features, d.n_classes) == (name, n_features, n_classes)
    assert (DATASETS[name].n_features, DATASETS[name].n_classes) == (n_features, n_classes)
    for (x, y), n in zip(_splits(d), (n_train, n_val, n_test), strict=True):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (n, n_features) and y.shape == (n,)
        assert torch.isfinite(x).all()
        assert sorted(y.unique().tolist()) == list(range(n_classes))  # stratified: all present


@pytest.mark.parametrize("name", GENERATED)
def test_generated_splits_share_no_rows(name: str) -> None:
    rows = [{r.tobytes() for r in x.numpy()} for x, _ in _splits(load_dataset(name))]
    assert sum(len(r) for r in rows) == len(set().union(*rows))


@pytest.mark.parametrize("name", ["moons", "mnist1d"])
def test_standardised_with_training_statistics_only(name: str) -> None:
    d = load_dataset(name)
    assert torch.allclose(d.x_train.mean(0), torch.zeros(d.n_features), atol=1e-5)
    std = d.x_train.std(0, correction=0)
    assert torch.all(((std - 1).abs() < 1e-4) | (std == 0))  # constant features stay constant
    assert d.x_val.mean(0).abs().max() > 1e-3 and d.x_test.mean(0).abs().max() > 1e-3
    # oracle: scikit-learn's StandardScaler fitted on the raw training rows
    x, y = ds._GENERATORS[name](0)
    raw = ds._stratified_splits(x.astype(np.float32), y.astype(np.int64), 0)
    scaler = StandardScaler().fit(raw[0].astype(np.float64))
    for (xs, _), raw_x in zip(_splits(d), raw[0::2], strict=True):
        np.testing.assert_allclose(xs.numpy(), scaler.transform(raw_x), atol=1e-5)


def test_digits_standardised_globally_with_training_pixels() -> None:
    d = load_dataset("digits")
    x, y = ds._GENERATORS["digits"](0)
    raw = ds._stratified_splits(x.astype(np.float32), y.astype(np.int64), 0)
    mean, std = raw[0].astype(np.float64).mean(), raw[0].astype(np.float64).std()
    for (xs, _), raw_x in zip(_splits(d), raw[0::2], strict=True):
        np.testing.assert_allclose(xs.numpy(), (raw_x - mean) / std, atol=1e-5)


@pytest.mark.parametrize("name", ["moons", "classification", "digits"])
def test_same_seed_is_bit_identical_and_other_seed_differs(name: str) -> None:
    uncached = ds._load_cached.__wrapped__
    a, b, c = uncached(name, 0, None), uncached(name, 0, None), uncached(name, 1, None)
    for (xa, ya), (xb, yb) in zip(_splits(a), _splits(b), strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert not torch.equal(a.x_train, c.x_train)
    assert load_dataset(name) is load_dataset(name, data_seed=0)  # cached


def test_mnist1d_is_deterministic_and_leaves_global_rngs_alone() -> None:
    first = load_dataset("mnist1d")
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.rand(3)  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    again = ds._load_cached.__wrapped__("mnist1d", 0, None)
    np.testing.assert_array_equal(np.random.rand(3), expected)  # noqa: NPY002
    assert torch.equal(first.x_train, again.x_train) and torch.equal(first.y_test, again.y_test)


def test_mesh_covers_training_data_on_a_fixed_grid() -> None:
    d = load_dataset("moons")
    xx, yy, grid = d.mesh(40)
    assert xx.shape == yy.shape == (40, 40) and grid.shape == (1600, 2)
    assert grid.dtype == torch.float32
    np.testing.assert_array_equal(grid.numpy(), np.stack([xx.ravel(), yy.ravel()], axis=1))
    lo, hi = grid.min(0).values, grid.max(0).values
    assert torch.all(lo <= d.x_train.min(0).values - 0.5)
    assert torch.all(hi >= d.x_train.max(0).values + 0.5)
    assert torch.equal(lo * 2, (lo * 2).round()) and torch.equal(hi * 2, (hi * 2).round())
    assert torch.equal(d.mesh(40)[2], grid)
    with pytest.raises(ValueError, match="resolution >= 2"):
        d.mesh(1)


def test_points_are_a_fixed_training_subsample() -> None:
    d = load_dataset("circles")
    x, labels = d.points(100)
    assert x.shape == (100, 2) and labels.shape == (100,)
    rows = {r.tobytes() for r in d.x_train.numpy()}
    assert all(r.tobytes() in rows for r in x)
    np.testing.assert_array_equal(d.points(100)[0], x)
    assert d.points(10_000)[0].shape == (900, 2)


@pytest.mark.parametrize("method", ["mesh", "points"])
def test_mesh_and_points_need_two_d(method: str) -> None:
    with pytest.raises(ValueError, match="needs a 2-D dataset.*2-D datasets: circles"):
        getattr(load_dataset("digits"), method)()


def test_splits_validate_dtypes() -> None:
    x, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="x_val must be float32"):
        DatasetSplits("t", x, y, x.double(), y, x, y, n_features=2, n_classes=2)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (9, 3), (5, 8), (0, 4)])
def test_batch_indices_cover_every_index_once(n: int, batch_size: int) -> None:
    batches = batch_indices(n, batch_size, generator=torch.Generator().manual_seed(0))
    assert [len(b) for b in batches][:-1] == [batch_size] * (len(batches) - 1)
    assert sorted(torch.cat([torch.empty(0, dtype=torch.int64), *batches]).tolist()) == list(
        range(n)
    )
    again = batch_indices(n, batch_size, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))


def test_batch_indices_without_shuffle_and_bad_size() -> None:
    batches = batch_indices(5, 2, generator=torch.Generator(), shuffle=False)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size >= 1"):
        batch_indices(5, 0, generator=torch.Generator())


def test_mnist_from_idx_files(mnist_dir: Path) -> None:
    d = load_dataset("mnist", data_dir=mnist_dir)
    assert (d.n_features, d.n_classes) == (784, 10)
    sizes = [(x.shape, y.shape) for x, y in _splits(d)]
    assert sizes == [((n, 784), (n,)) for n in (50_000, 10_000, 10_000)]
    assert torch.bincount(d.y_test).tolist() == MNIST_TEST_COUNTS
    assert torch.bincount(d.y_val).min() > 850  # stratified
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    # images: ONE mean/std over all training pixels (per-pixel statistics blow up the borders)
    assert abs(float(d.x_train.mean())) < 1e-4 and abs(float(d.x_train.std()) - 1) < 1e-3
    assert float(d.x_test.abs().max()) < 10
    assert load_dataset("mnist", data_dir=str(mnist_dir)) is d  # cached on the resolved dir
    # oracle: pixels / 255 standardised with numpy statistics of the stratified training rows
    y_all = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz")
    train, _ = train_test_split(np.arange(60_000), test_size=10_000, stratify=y_all, random_state=0)
    train, cols = np.sort(train), np.arange(0, 784, 7)  # every 7th pixel, borders included
    x_train = read_idx(mnist_dir / "train-images-idx3-ubyte.gz").reshape(60_000, 784)[train] / 255
    mean, std = x_train.mean(), x_train.std()
    x_test = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz").reshape(10_000, 784)[:, cols] / 255
    expected = (x_test - mean) / std
    np.testing.assert_allclose(d.x_test.numpy()[:, cols], expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(d.y_train.numpy(), y_all[train])
    np.testing.assert_array_equal(
        d.y_test.numpy(), read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    )


def test_landau_data_env_var(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_torchvision: None
) -> None:
    monkeypatch.setenv("LANDAU_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path)):
        load_dataset("mnist")
    monkeypatch.setenv("LANDAU_DATA", str(mnist_dir))
    assert load_dataset("mnist") is load_dataset("mnist", data_dir=mnist_dir)


def test_missing_mnist_names_files_and_fixes(tmp_path: Path, no_torchvision: None) -> None:
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mnist", data_dir=tmp_path)
    message = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in message
    for needle in (*MNIST_FILES, str(tmp_path), str(tmp_path / "MNIST" / "raw")):
        assert needle in message
    assert "--data-dir" in message and "LANDAU_DATA" in message


def test_failed_torchvision_download_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_mnist(root: str, train: bool, download: bool) -> None:
        calls.append((root, train, download))
        raise RuntimeError("no internet")

    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=fake_mnist))
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    with pytest.raises(DatasetNotFoundError, match="download failed.*no internet"):
        load_dataset("mnist", data_dir=tmp_path)
    assert calls == [(str(tmp_path.resolve()), True, True)]


def test_torchvision_layout_mixing_extracted_and_gz(mnist_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        if "labels" in name:  # extracted, as torchvision leaves them
            (raw / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
        else:
            (raw / f"{name}.gz").symlink_to(mnist_dir / f"{name}.gz")
    d = load_dataset("mnist", data_dir=tmp_path)
    ref = load_dataset("mnist", data_dir=mnist_dir)
    assert d is not ref
    for (xa, ya), (xb, yb) in zip(_splits(d), _splits(ref), strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def _idx(shape: tuple[int, ...], magic: bytes = b"\x00\x00\x08") -> bytes:
    header = magic + bytes([len(shape)]) + np.array(shape, dtype=">u4").tobytes()
    return header + bytes(int(np.prod(shape)))


def test_read_idx_roundtrip_and_corruption(tmp_path: Path) -> None:
    good = tmp_path / "ok.gz"
    good.write_bytes(gzip.compress(_idx((3, 2, 2))))
    assert read_idx(good).shape == (3, 2, 2)
    cases = {
        "notgzip.gz": b"this is not gzip",
        "magic": _idx((3,), magic=b"\x00\x00\x0d"),  # float data, not ubyte
        "truncated": _idx((3, 2, 2))[:-1],
        "header": b"\x00\x00\x08\x03\x00",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="corrupt IDX file"):
            read_idx(tmp_path / name)


def test_corrupt_mnist_file_raises(mnist_dir: Path, tmp_path: Path) -> None:
    for name in MNIST_FILES:
        (tmp_path / f"{name}.gz").symlink_to(mnist_dir / f"{name}.gz")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx((59_999,)))  # found first
    with pytest.raises(ValueError, match="corrupt MNIST train files"):
        load_dataset("mnist", data_dir=tmp_path)
