"""Speed of the experiment machinery, as ratios against references measured in the same run.

Run: python -m pytest benchmarks/bench_studies.py --benchmark-only
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from studies.data.datasets import DatasetSplits, load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.grid import load_grid
from studies.experiment.runner import run_grid
from studies.experiment.training import train
from studies.store.store import Store

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
RATIOS: dict[str, float] = {}


def _mnist_slice(n: int = 12_800) -> DatasetSplits:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST IDX files not found in {MNIST_DIR}")
    d = load_dataset("mnist", data_dir=MNIST_DIR)
    return DatasetSplits(
        "mnist",
        d.x_train[:n],
        d.y_train[:n],
        d.x_val[:1000],
        d.y_val[:1000],
        d.x_test[:10],
        d.y_test[:10],
        n_features=784,
        n_classes=10,
    )


def _epoch_seconds(variant: str, data: DatasetSplits, depth: int) -> float:
    record = train(RunConfig(variant, "mnist", 0, depth, 1), data=data)
    assert record.status == "ok", record.error
    return record.seconds_per_epoch


@pytest.mark.parametrize("depth", [1, 2])
def test_full_model_mnist_epoch_vs_plain_mlp(benchmark, depth):
    """Full model, one MNIST epoch at batch 64 (200 batches of it): target <= 1.5x plain_mlp."""
    data = _mnist_slice()
    torch.set_num_threads(2)
    _epoch_seconds("full", data, depth)  # warm-up
    ref = min(_epoch_seconds("plain_mlp", data, depth) for _ in range(3))
    times: list[float] = []
    benchmark.pedantic(
        lambda: times.append(_epoch_seconds("full", data, depth)), rounds=3, iterations=1
    )
    full = min(times)
    ratio = full / ref
    benchmark.extra_info.update({"plain_mlp_epoch_s": ref, "full_epoch_s": full, "ratio": ratio})
    print(
        f"\nMNIST epoch depth {depth}: full {full:.3f}s, plain_mlp {ref:.3f}s, "
        f"ratio {ratio:.2f}x (target <= 1.5x)"
    )


def _grid_throughput(runs, workers: int, tmp_path: Path) -> float:
    start = time.perf_counter()
    with Store(tmp_path / f"w{workers}.db") as store:
        run_grid(runs, store, workers=workers, progress=False)
    return len(runs) / (time.perf_counter() - start)


def test_workers_two_vs_one_on_the_quick_grid(benchmark, tmp_path):
    """--workers 2 against --workers 1 on the quick grid at one seed: target >= 1.7x."""
    runs = load_grid("quick").with_overrides(seeds=1).expand()  # 55 runs: every combination
    one = _grid_throughput(runs, 1, tmp_path)
    two = benchmark.pedantic(
        lambda: _grid_throughput(runs, 2, tmp_path / "b"),
        rounds=1,
        iterations=1,
        setup=lambda: (tmp_path / "b").mkdir(exist_ok=True),
    )
    ratio = two / one
    benchmark.extra_info.update(
        {"runs": len(runs), "workers1_runs_per_s": one, "workers2_runs_per_s": two, "ratio": ratio}
    )
    print(
        f"\nquick-grid slice ({len(runs)} runs): {one:.2f} runs/s with 1 worker, "
        f"{two:.2f} with 2: {ratio:.2f}x (target >= 1.7x)"
    )


@pytest.mark.slow
def test_quick_grid_wall_time(benchmark, tmp_path):
    """The whole quick grid on 2 workers: target <= 180 s on 2 cores (absolute, informational)."""
    runs = load_grid("quick").expand()
    seconds = benchmark.pedantic(
        lambda: len(runs) / _grid_throughput(runs, 2, tmp_path), rounds=1, iterations=1
    )
    benchmark.extra_info.update({"runs": len(runs), "seconds": seconds})
    print(f"\nquick grid: {len(runs)} runs in {seconds:.0f} s with 2 workers (target <= 180 s)")
