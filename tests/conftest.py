"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PostgresCluster, PostgresUnavailable  # tests/ is on sys.path (rootdir)

try:  # the example plugin's variants join every registry-parametrised contract test
    import torch  # noqa: F401  (the plugin's activation is torch's)

    from studies.experiment.plugins import load_plugins
except ImportError:  # the reports tests run without torch and the studies' dependencies too
    pass
else:
    load_plugins(["example_variant"], Path(__file__).parent / "plugins")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a throwaway PostgreSQL cluster, shared by the session; skip if none."""
    pytest.importorskip("psycopg2", reason="PostgreSQL server not available: no psycopg2")
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL server not available: {exc}")
    try:
        cluster.start()
    except PostgresUnavailable as exc:
        cluster.stop()
        pytest.skip(f"PostgreSQL server not available: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


# MNIST's IDX files: ../shared/data/mnist beside the checkout (or $LANDAU_TEST_MNIST).
MNIST_DIR = Path(
    os.environ.get(
        "LANDAU_TEST_MNIST", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    )
)
MNIST_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with MNIST's four IDX files; skip with the reason where they are absent."""
    if not all((MNIST_DIR / f"{name}.gz").is_file() for name in MNIST_NAMES):
        pytest.skip(f"MNIST IDX files not found in {MNIST_DIR} (set LANDAU_TEST_MNIST)")
    return MNIST_DIR


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: on 2 shared cores a second thread mostly stalls, and results are
    bit-identical only at a fixed thread count."""
    try:
        import torch
    except ImportError:  # the reports tests run without torch too
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
