"""Tuning many studies on local processes, and the summary ``landau tune`` prints.

``tune_studies(..., workers=N)`` hands whole studies to N spawned processes (studies are
independent; each process opens the storage once and reports finished trials to this one for
the progress bar). The summary's Optuna overhead is the storage and sampler time: checking and
creating the studies, then per study its wall time minus the time spent training.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from queue import Empty

from studies.experiment.plugins import loaded_plugins

__all__ = ["TuningSummary", "dask_client", "tune_studies"]


@dataclass
class TuningSummary:
    """Every study's result, the time spent checking and creating the studies, and the wall
    time of the whole tuning."""

    results: list = field(default_factory=list)
    wall_seconds: float = 0.0
    prepare_seconds: float = 0.0

    def _timed(self) -> tuple[float, float]:
        """Tuning wall and Optuna overhead seconds: the studies that ran trials, plus preparing
        the studies (all storage work)."""
        ran = [r for r in self.results if r.ran]
        wall = self.prepare_seconds + sum(r.wall_seconds for r in ran)
        return wall, self.prepare_seconds + sum(r.overhead_seconds for r in ran)

    def overhead_share(self) -> float:
        """Optuna's share (sampler + storage: wall minus training) of the tuning wall time."""
        wall, overhead = self._timed()
        return overhead / wall if wall > 0 else 0.0

    def lines(self) -> list[str]:
        states = sum((r.states for r in self.results), Counter())
        out = [r.line() for r in self.results]
        wall, overhead = self._timed()
        ran = sum(r.ran for r in self.results)
        share = (
            f"Optuna overhead (sampler + storage) {overhead:.2f} s of the {wall:.1f} s the "
            f"studies took (summed over studies, data loading excluded) = "
            f"{100 * self.overhead_share():.1f} %"
            if ran
            else "every study already had its budget: nothing tuned"
        )
        held = (
            f"the studies hold {states['COMPLETE']} complete, {states['PRUNED']} pruned and "
            f"{states['FAIL']} failed trials"
        )
        out.append(
            f"{len(self.results)} studies: {ran} trials run now, in {self.wall_seconds:.1f} s "
            f"wall clock; {held}; {share}"
        )
        return out


_QUEUE = None  # set in each worker process: finished trial states go back to the parent
_IN_JOB = False  # a worker is tuning a study: SIGTERM unwinds it (claimed presets released)


def _on_sigterm(_signum, _frame) -> None:
    if _IN_JOB:
        raise KeyboardInterrupt
    os._exit(143)


def _set_up_worker(queue) -> None:
    """After ``init_process``: the queue to the parent, Optuna's log level, and SIGTERM (from
    the parent, or on its death) ending the worker after the study's clean-up."""
    global _QUEUE
    import optuna

    _QUEUE = queue
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    signal.signal(signal.SIGTERM, _on_sigterm)


def _job(key, budget, url, n, device, data_dir, top_up):
    global _IN_JOB
    from studies.tuning.study import tune_study

    _IN_JOB = True
    try:
        return tune_study(
            key, budget, url, n, device=device, data_dir=data_dir, on_trial=_QUEUE.put,
            top_up=top_up,
        )  # fmt: skip
    except KeyboardInterrupt:  # told to stop: claimed presets are WAITING again
        os._exit(143)
    finally:
        _IN_JOB = False


def _dask_job(key, budget, url, n, device, data_dir, threads, plugins=()):
    """One study as a task on a Dask worker (which has no initializer of ours)."""
    import optuna

    from studies.experiment.process import init_process
    from studies.tuning.study import tune_study

    init_process(threads, plugins)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return tune_study(key, budget, url, n, device=device, data_dir=data_dir)


def dask_client(scheduler: str):
    """A client of the Dask scheduler at ``scheduler``; ValueError when it cannot be reached."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise ValueError(f"--scheduler needs dask.distributed: {exc}") from None
    try:
        return Client(scheduler, timeout="10s")
    except OSError as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def _on_dask(jobs, budget, url, device, data_dir, threads, client, bar, states) -> list:
    """Every study of ``jobs`` a task on the Dask cluster of ``client``; the workers share
    the storage at ``url`` (which they must reach: a SQLite file on a shared disk, or a server
    database such as PostgreSQL). The bar advances by a study's trials when it finishes."""
    from distributed import as_completed as dask_completed

    from studies.tuning.keys import study_name

    results = []
    futures = [
        client.submit(
            _dask_job,
            key,
            budget,
            url,
            n,
            device,
            data_dir,
            threads,
            loaded_plugins(),
            pure=False,
            key=f"landau-tune-{study_name(key, budget)}-{n}-{time.time_ns()}",
        )
        for key, n in jobs
    ]
    for future in dask_completed(futures):
        result = future.result()
        states.update(result.states)
        bar.update(result.ran)
        bar.set_postfix(pruned=states["PRUNED"], failed=states["FAIL"])
        results.append(result)
    return results


def _drain(queue, bar, states: Counter) -> None:
    while True:
        try:
            state = queue.get_nowait()
        except Empty:
            return
        states[state] += 1
        bar.update(1)
        bar.set_postfix(pruned=states["PRUNED"], failed=states["FAIL"])


def tune_studies(
    keys,
    budget,
    url,
    *,
    workers=1,
    device="cpu",
    data_dir=None,
    top_up=False,
    add=None,
    progress=True,
    threads=1,
    scheduler=None,
    expected_seconds=None,
) -> TuningSummary:
    """Tune every study of ``keys``: ``budget.trials`` more trials each, or with ``top_up`` as
    many as each study lacks to reach ``budget.trials`` finished ones (counted again when the
    study starts, after the trials of dead processes were failed and enqueued again). Every
    process that trains uses ``threads`` intra-op threads. ``add`` (with ``top_up`` False) adds
    that many trials to each study instead of ``budget.trials``. With ``scheduler`` (a Dask
    scheduler address) each study is a task on that cluster instead of the ``workers`` local
    processes. ``expected_seconds`` (the plan's estimate) seeds the progress display's time
    left."""
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers!r}")
    client = dask_client(scheduler) if scheduler else None  # unreachable: before any change
    try:
        return _tune(
            keys, budget, url, workers, device, data_dir, top_up, add, progress, threads, client,
            expected_seconds,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()


def _tune(
    keys, budget, url, workers, device, data_dir, top_up, add, progress, threads, client, expected
):
    from studies.data.catalog import DATASETS
    from studies.experiment.progress import progress_bar
    from studies.tuning.keys import study_name
    from studies.tuning.storage import open_storage
    from studies.tuning.study import prepare_studies, tune_study

    start = time.perf_counter()
    finished = prepare_studies(keys, budget, open_storage(url))
    prepared = time.perf_counter() - start
    infos = {k: k.custom.info if k.custom is not None else DATASETS[k.dataset] for k in keys}
    cost = {k: -(info.n_features + info.n_classes) for k, info in infos.items()}
    jobs = []
    for key in sorted(keys, key=lambda k: (cost[k], -k.depth)):  # long studies first
        jobs.append((key, add or budget.trials))  # top_up: tune_study counts again
    shown = {
        k: max(0, budget.trials - finished[study_name(k, budget)]) if top_up else n for k, n in jobs
    }
    states: Counter = Counter()
    results = []
    with progress_bar(
        sum(shown.values()),
        desc="tune",
        unit="trial",
        enabled=progress,
        expected_seconds=expected,
    ) as bar:
        here = [job for job in jobs if shown[job[0]] == 0] if workers > 1 or client else jobs
        away = [job for job in jobs if job not in here]  # 0 trials: just read, here
        if len(away) == 1 and not client:
            here, away = here + away, []

        def on_trial(state: str) -> None:
            states[state] += 1
            bar.update(1)

        if here:
            from studies.experiment.process import init_process

            init_process(threads)
        for key, n in here:
            results.append(
                tune_study(
                    key,
                    budget,
                    url,
                    n,
                    device=device,
                    data_dir=data_dir,
                    on_trial=on_trial,
                    top_up=top_up,
                )
            )
        if away and client:
            results += _on_dask(away, budget, url, device, data_dir, threads, client, bar, states)
        elif away:
            from studies.experiment.process import worker_pool

            queue = multiprocessing.get_context("spawn").Queue()
            with worker_pool(
                min(workers, len(away)),
                threads,
                f"{__name__}:_set_up_worker",
                (queue,),
                plugins=loaded_plugins(),
            ) as pool:
                pending = {
                    pool.submit(_job, k, budget, url, n, device, data_dir, top_up) for k, n in away
                }
                while pending:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    _drain(queue, bar, states)
                    results += [f.result() for f in done]
            _drain(queue, bar, states)
    order = {study_name(k, budget): i for i, k in enumerate(keys)}
    results.sort(key=lambda r: order[r.name])
    return TuningSummary(results, time.perf_counter() - start, prepared)
