"""Executing a list of runs: in process, on N local processes, or on a Dask cluster.

Only this (parent) process writes the store; workers return records as plain dicts. Every
finished run is committed on its own as soon as it arrives, so a grid killed at any moment
(kill -9 included) loses at most the runs in flight, and the next invocation skips what is stored.

A stored run produced by other code (its ``code_fingerprint`` differs from this process's, or was
never recorded) is not silently reused: it is retrained and replaced, or kept with
``reuse_stale`` — either way the summary says how many there were.

torch is imported only when something is left to train: a grid whose runs are all stored records
its membership and answers without it.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from contextlib import closing
from dataclasses import dataclass, field

from ablations.spec import check_experiment_name
from studies.data.catalog import DATASETS
from studies.experiment.config import RunConfig, check_seed_batch
from studies.experiment.fingerprint import run_fingerprint
from studies.experiment.plugins import loaded_plugins
from studies.experiment.process import DEFAULT_THREADS, init_process, worker_pool
from studies.experiment.progress import progress_bar
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
    stale: int = 0  # stored runs from other code among these runs
    reuse_stale: bool = False  # kept (True) or retrained (False)
    retry: list[str] = field(default_factory=list)  # ran out of memory: not stored

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
        if self.stale:
            out.append(stale_line(self.stale, self.reuse_stale))
        out += [f"  failed: {f}" for f in self.failures[:10]]
        if len(self.failures) > 10:
            out.append(f"  … and {len(self.failures) - 10} more failures (see `landau export`)")
        if self.retry:
            out.append(
                f"{len(self.retry)} runs ran out of memory and were not stored: run the same "
                "command again to retry them (fewer --workers or a smaller --seed-batch need "
                f"less memory); first: {self.retry[0]}"
            )
        return out


def execute(
    batch: list[dict], data_dir: str | None = None, threads: int | None = None, plugins=()
) -> list[dict]:
    """Worker entry point: a population (plain config kwargs of one population key) to plain
    record dicts; it trains as one model (a Dask task or a pool job is one population).
    A batch that raises becomes one ``failed`` record per run (the boundary of ``train``).

    ``threads`` and ``plugins`` set up the process first (Dask workers, which have no
    initializer of ours)."""
    from studies.experiment.training import train, train_seeds  # imported in the worker

    if threads is not None:
        init_process(threads, plugins)
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
    from studies.data.datasets import load_dataset
    from studies.experiment.loss_ranking import loss_ranking

    for dataset, custom in dict.fromkeys((r.dataset, r.custom_dataset) for r in runs):
        data = load_dataset(dataset, data_seed=runs[0].data_seed, data_dir=data_dir, custom=custom)
        if (custom.info if custom is not None else DATASETS[dataset]).two_d:
            xy, labels = data.points()
            store.write_points(dataset, xy[:, 0], xy[:, 1], labels)
    store.write_loss_ranking(loss_ranking())


def stale_line(count: int, reuse_stale: bool) -> str:
    """What the grid does with ``count`` stored runs that other code produced."""
    if reuse_stale:
        return f"{count} stored runs come from other code or data — kept (--reuse-stale)"
    return (
        f"{count} stored runs come from other code or data — --reuse-stale keeps them (retrained)"
    )


def stale_ids(store: Store, runs: list[RunConfig]) -> set[str]:
    """Ids of ``runs`` that are stored but were produced by other code than this process's
    (``fingerprint.run_fingerprint``; a run stored before fingerprints were recorded counts)."""
    stored = store.code_fingerprints()
    unique = {r.run_id: r for r in runs if r.run_id in stored}
    return {i for i, r in unique.items() if stored[i] != run_fingerprint(r)}


def check_plan(store: Store, experiment: str, runs: list[RunConfig]) -> None:
    """A grid may add runs to an experiment, not mix its plan with an unfinished other one:
    ValueError when the experiment counts runs not stored yet that ``runs`` do not include."""
    leftover = store.unstored_members(experiment) - {r.run_id for r in runs}
    if leftover:
        raise ValueError(
            f"experiment {experiment!r} counts {len(leftover)} runs not stored yet that this "
            "grid does not ask for (an earlier, unfinished plan under that name): run that plan "
            "again to finish it, give --replace to make this grid's runs the experiment's runs "
            "(stored runs stay in the store), or give another --experiment"
        )


def pending_runs(
    store: Store,
    runs: list[RunConfig],
    *,
    reuse_stale: bool = False,
    stale: set[str] | None = None,
) -> list[RunConfig]:
    """The runs to train: those not stored, and (unless ``reuse_stale``) those stored from
    other code (``stale``, when the caller has them); the costliest datasets first."""
    done = store.completed_ids()
    if not reuse_stale:
        done -= stale_ids(store, runs) if stale is None else stale
    unique = {r.run_id: r for r in runs if r.run_id not in done}
    return sorted(unique.values(), key=lambda r: -_COST.get(r.dataset, 1))


def _local(batches, data_dir, workers, threads) -> Iterator[list[dict]]:
    if workers == 1:
        init_process(threads)
        for batch in batches:
            yield execute([c.to_kwargs() for c in batch], data_dir)
        return
    with worker_pool(workers, threads, plugins=loaded_plugins()) as pool:
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
                loaded_plugins(),
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
    replace: bool = False,
    seed_batch: int | None = None,
    compile: bool = False,
    reuse_stale: bool = False,
    expected_seconds: float | None = None,
    on_record: Callable[[RunRecord], None] | None = None,
) -> GridSummary:
    """Run what is not stored yet, write each record as it arrives, and summarise.

    Every process that trains (this one when ``workers == 1``) uses ``threads`` intra-op threads.
    ``experiment`` names the experiment every run of ``runs`` belongs to (recorded up front);
    its unfinished other plan is refused (``check_plan``) unless ``replace`` makes ``runs``
    the experiment's runs.
    Runs of one population key (seeds, data splits, swept or tuned continuous values: see
    studies.experiment.members) train as one model, at most ``seed_batch`` members each (None:
    a whole cell; 1: one run at a time); a run's result is the same whatever the population.
    Each record is written as its population ends (kill -9 loses the populations in flight).
    ``compile`` trains every torch run's forward pass under torch.compile; it is part of those
    runs' ids (compiled kernels round differently), and pays only for long runs.
    A stored run produced by other code is retrained and replaced, or with ``reuse_stale`` kept.
    ``expected_seconds`` (the plan's estimate) seeds the progress display's time left.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers!r}")
    check_seed_batch(seed_batch)  # bad input before the first write: nothing stored changes
    if experiment is not None:
        check_experiment_name(experiment)
    if compile:
        runs = [r if r.family == "sklearn" else dataclasses.replace(r, compile=True) for r in runs]
    start = time.perf_counter()
    if experiment is not None and not replace:
        check_plan(store, experiment, runs)
    stale = stale_ids(store, runs)
    pending = pending_runs(store, runs, reuse_stale=reuse_stale, stale=stale)
    if pending:  # the stored runs' datasets were prepared when they ran
        prepare(store, pending, data_dir)
    if experiment is not None:  # members, and the setting each was asked under
        store.add_to_experiment(experiment, settings=[setting(r) for r in runs], replace=replace)
    summary = GridSummary(
        total=len(runs),
        skipped=len(runs) - len(pending),
        stale=len(stale),
        reuse_stale=reuse_stale,
    )
    if not pending:
        summary.seconds = time.perf_counter() - start
        return summary
    from studies.experiment.recording import retryable  # torch: something trains
    from studies.experiment.seed_batch import group_seeds

    batches = group_seeds(pending, seed_batch)
    source: Iterator[list[dict]] = (
        _dask(batches, data_dir, scheduler, threads)
        if scheduler
        else _local(batches, data_dir, workers, threads)
    )
    with (
        progress_bar(
            len(runs),
            initial=summary.skipped,
            desc=desc,
            unit="run",
            enabled=progress,
            expected_seconds=expected_seconds,
        ) as bar,
        closing(source),
    ):  # closed at once when interrupted: its workers end now
        for payloads in source:
            for payload in payloads:
                record = RunRecord.from_dict(payload)
                if retryable(record):  # not a result: nothing stored, run again on resume
                    summary.retry.append(f"{record.name}: {record.error}")
                    bar.update(1)
                    continue
                store.write_run(record, replace=record.run_id in stale)
                summary.counts[record.status] += 1
                if record.status == "failed":
                    summary.failures.append(f"{record.name}: {record.error}")
                if on_record is not None:
                    on_record(record)
                bar.update(1)
            bar.set_postfix(diverged=summary.counts["diverged"], failed=summary.counts["failed"])
    summary.seconds = time.perf_counter() - start
    return summary
