"""Executing a list of runs: in process, on N local processes, or on a Dask cluster.

Only this (parent) process writes the store; workers return records as plain dicts. Every
finished run is committed on its own as soon as it arrives, so a grid killed at any moment
(kill -9 included) loses at most the runs in flight, and the next invocation skips what is stored.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from studies.data.datasets import DATASETS, load_dataset
from studies.experiment.config import RunConfig
from studies.experiment.loss_ranking import loss_ranking
from studies.experiment.process import DEFAULT_THREADS, init_process
from studies.experiment.seed_batch import group_seeds
from studies.store.records import RunRecord
from studies.store.store import Store

_COST = {"mnist": 100, "mnist1d": 4, "digits": 2}  # rough relative cost: start long runs first


@dataclass
class GridSummary:
    total: int
    skipped: int = 0
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def executed(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        c = self.counts
        out = [
            f"{self.total} runs: {self.skipped} already stored, {self.executed} executed "
            f"({c['ok']} ok, {c['diverged']} diverged, {c['failed']} failed) "
            f"in {self.seconds:.1f} s"
        ]
        out += [f"  failed: {f}" for f in self.failures[:10]]
        if len(self.failures) > 10:
            out.append(f"  … and {len(self.failures) - 10} more failures (see `landau export`)")
        return out


def execute(
    batch: list[dict], data_dir: str | None = None, threads: int | None = None
) -> list[dict]:
    """Worker entry point: a population (plain config kwargs of one population key) to plain
    record dicts; it trains as one model (a Dask task or a pool job is one population).
    A batch that raises becomes one ``failed`` record per run (the boundary of ``train``).

    ``threads`` set up the process first (Dask workers, which have no initializer of ours)."""
    from studies.experiment.training import train, train_seeds  # imported in the worker

    if threads is not None:
        init_process(threads)
    configs = [RunConfig(**kwargs) for kwargs in batch]
    if len(configs) == 1:
        return [train(configs[0], data_dir=data_dir).to_dict()]
    return [r.to_dict() for r in train_seeds(configs, data_dir=data_dir)]


def setting(config: RunConfig) -> dict:
    """The setting ``config`` asks its run under (a row of the store's run_settings)."""
    return {
        "run_id": config.run_id,
        "params_source": config.params_source,
        "study_name": config.study_name,
        "trial_number": config.trial_number,
        "sweep": config.sweep_text,
    }


def prepare(store: Store, runs: list[RunConfig], data_dir: str | None) -> None:
    """Check every dataset loads (bad input fails before any run) and store the grid-level data:
    the overlay points of 2-D datasets and the loss ranking."""
    for dataset in dict.fromkeys(r.dataset for r in runs):
        data = load_dataset(dataset, data_seed=runs[0].data_seed, data_dir=data_dir)
        if DATASETS[dataset].two_d:
            xy, labels = data.points()
            store.write_points(dataset, xy[:, 0], xy[:, 1], labels)
    store.write_loss_ranking(loss_ranking())


def pending_runs(store: Store, runs: list[RunConfig]) -> list[RunConfig]:
    done = store.completed_ids()
    unique = {r.run_id: r for r in runs if r.run_id not in done}
    return sorted(unique.values(), key=lambda r: -_COST.get(r.dataset, 1))


def _local(batches, data_dir, workers, threads) -> Iterator[list[dict]]:
    if workers == 1:
        init_process(threads)
        for batch in batches:
            yield execute([c.to_kwargs() for c in batch], data_dir)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=init_process, initargs=(threads,)
    ) as pool:
        futures = [
            pool.submit(execute, [c.to_kwargs() for c in batch], data_dir) for batch in batches
        ]
        for future in as_completed(futures):
            yield future.result()


def _dask(batches, data_dir, scheduler, threads) -> Iterator[list[dict]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise ValueError(f"--scheduler needs dask.distributed: {exc}") from None
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
    with client:
        futures = [
            client.submit(
                execute,
                [c.to_kwargs() for c in batch],
                data_dir,
                threads,
                pure=False,
                key=f"landau-{batch[0].run_id}-{len(batch)}",
            )
            for batch in batches
        ]
        for future in dask_completed(futures):
            yield future.result()


def run_grid(
    runs: list[RunConfig],
    store: Store,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    data_dir: str | None = None,
    progress: bool = True,
    desc: str = "grid",
    threads: int = DEFAULT_THREADS,
    experiment: str | None = None,
    seed_batch: int | None = None,
    compile: bool = False,
    on_record: Callable[[RunRecord], None] | None = None,
) -> GridSummary:
    """Run what is not stored yet, write each record as it arrives, and summarise.

    Every process that trains (this one when ``workers == 1``) uses ``threads`` intra-op threads.
    ``experiment`` names the experiment every run of ``runs`` belongs to (recorded up front).
    Runs of one population key (seeds, data splits, swept or tuned continuous values: see
    studies.experiment.members) train as one model, at most ``seed_batch`` members each (None:
    a whole cell; 1: one run at a time); a run's result is the same whatever the population.
    Each record is written as its population ends (kill -9 loses the populations in flight).
    ``compile`` trains every torch run's forward pass under torch.compile; it is part of those
    runs' ids (compiled kernels round differently), and pays only for long runs.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers!r}")
    if compile:
        runs = [r if r.family == "sklearn" else dataclasses.replace(r, compile=True) for r in runs]
    start = time.perf_counter()
    if runs:
        prepare(store, runs, data_dir)
    if experiment is not None:  # members, and the setting each was asked under
        store.add_to_experiment(experiment, settings=[setting(r) for r in runs])
    pending = pending_runs(store, runs)
    summary = GridSummary(total=len(runs), skipped=len(runs) - len(pending))
    batches = group_seeds(pending, seed_batch)
    source: Iterable[list[dict]] = (
        _dask(batches, data_dir, scheduler, threads)
        if scheduler
        else _local(batches, data_dir, workers, threads)
    )
    with tqdm(
        total=len(runs),
        initial=summary.skipped,
        desc=desc,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        for payloads in source:
            for payload in payloads:
                record = RunRecord.from_dict(payload)
                store.write_run(record)
                summary.counts[record.status] += 1
                if record.status == "failed":
                    summary.failures.append(f"{record.name}: {record.error}")
                if on_record is not None:
                    on_record(record)
                bar.update(1)
            bar.set_postfix(diverged=summary.counts["diverged"], failed=summary.counts["failed"])
    summary.seconds = time.perf_counter() - start
    return summary
