"""The commands tune, run and report, and tuning many studies on local processes.

``landau tune SPEC --workers N`` hands whole studies to N spawned processes (studies are
independent; each process opens the storage itself and reports finished trials to this one
for the progress bar). ``landau run`` tunes each study of a grid up to its budget (running it
again resumes instead of adding trials), runs the grid with the tuned parameters and writes
the report.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from queue import Empty

from studies.cli import DEFAULT_OUT


@dataclass
class TuningSummary:
    """Every study's result and the wall time of the whole tuning."""

    results: list = field(default_factory=list)
    wall_seconds: float = 0.0

    def _timed(self) -> tuple[float, float]:
        """Summed wall and overhead seconds of the studies that ran trials."""
        ran = [r for r in self.results if r.ran]
        return sum(r.wall_seconds for r in ran), sum(r.overhead_seconds for r in ran)

    def overhead_share(self) -> float:
        """Optuna's share (sampler + storage: wall minus training) of the studies' wall time."""
        wall, overhead = self._timed()
        return overhead / wall if wall > 0 else 0.0

    def lines(self) -> list[str]:
        states = sum((r.states for r in self.results), Counter())
        out = [r.line() for r in self.results]
        wall, overhead = self._timed()
        out.append(
            f"{len(self.results)} studies, {sum(r.ran for r in self.results)} trials run now "
            f"({states['COMPLETE']} complete, {states['PRUNED']} pruned, {states['FAIL']} failed "
            f"in all) in {self.wall_seconds:.1f} s; Optuna overhead (sampler + storage) "
            f"{overhead:.1f} s of {wall:.1f} s tuning wall time = {self.overhead_share():.1%}"
        )
        return out


_QUEUE = None  # set in each worker process: finished trial states go back to the parent


def _init_worker(queue) -> None:
    global _QUEUE
    import optuna
    import torch

    _QUEUE = queue
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _job(key, budget, url, n, device, data_dir):
    from studies.tuning import tune_study

    return tune_study(key, budget, url, n, device=device, data_dir=data_dir, on_trial=_QUEUE.put)


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
    keys, budget, url, *, workers=1, device="cpu", data_dir=None, top_up=False, progress=True
) -> TuningSummary:
    """Tune every study of ``keys``: ``budget.trials`` more trials each, or with ``top_up`` as
    many as each study lacks to reach ``budget.trials`` finished ones."""
    from tqdm.auto import tqdm

    from studies.datasets import DATASETS
    from studies.tuning import open_storage, prepare_studies, study_name, tune_study

    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers!r}")
    start = time.perf_counter()
    finished = prepare_studies(keys, budget, open_storage(url))
    cost = {k: -(DATASETS[k.dataset].n_features + DATASETS[k.dataset].n_classes) for k in keys}
    jobs = []
    for key in sorted(keys, key=lambda k: (cost[k], -k.depth)):  # long studies first
        done = finished[study_name(key, budget)]
        jobs.append((key, max(0, budget.trials - done) if top_up else budget.trials))
    states: Counter = Counter()
    results = []
    with tqdm(
        total=sum(n for _, n in jobs),
        desc="tune",
        unit="trial",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        here = [job for job in jobs if job[1] == 0] if workers > 1 else jobs  # 0: just read
        away = [job for job in jobs if job not in here]
        if len(away) == 1:
            here, away = here + away, []

        def on_trial(state: str) -> None:
            states[state] += 1
            bar.update(1)

        for key, n in here:
            results.append(
                tune_study(key, budget, url, n, device=device, data_dir=data_dir, on_trial=on_trial)
            )
        if away:
            ctx = multiprocessing.get_context("spawn")
            queue = ctx.Queue()
            with ProcessPoolExecutor(
                min(workers, len(away)), mp_context=ctx, initializer=_init_worker, initargs=(queue,)
            ) as pool:
                pending = {pool.submit(_job, k, budget, url, n, device, data_dir) for k, n in away}
                while pending:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    _drain(queue, bar, states)
                    results += [f.result() for f in done]
            _drain(queue, bar, states)
    order = {study_name(k, budget): i for i, k in enumerate(keys)}
    results.sort(key=lambda r: order[r.name])
    return TuningSummary(results, time.perf_counter() - start)


# ---- commands -----------------------------------------------------------------------------


def _storage(args) -> str:
    """--storage, or the results store (opened first, so the file is marked as a landau store)."""
    from studies.store import Store
    from studies.tuning import storage_url

    if args.storage:
        return storage_url(args.storage)
    from studies.cli import ensure_default_store_dir

    ensure_default_store_dir(args.store)
    Store(args.store).close()
    return storage_url(args.store)


def _budget(base, args):
    from studies.grid import TuningBudget

    overrides = {"trials": args.trials, "epochs": args.epochs, "seed": args.seed}
    return replace(base or TuningBudget(), **{k: v for k, v in overrides.items() if v is not None})


def cmd_tune(args) -> int:
    import optuna

    from studies.cli import check_datasets, grid_from_args
    from studies.models import resolve_device
    from studies.registry import get_variant
    from studies.tuning import StudyKey, grid_keys

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.scheduler:
        raise ValueError(
            "`landau tune` runs on local processes (--workers N); --scheduler is for `landau grid`"
        )
    if (args.variant is None) != (args.dataset is None):
        raise ValueError("--variant and --dataset go together (one study), or give a grid SPEC")
    if args.variant is not None:
        depths = [args.depth] if args.depth is not None else get_variant(args.variant).depths
        keys = [StudyKey(args.variant, args.dataset, d) for d in depths]
        budget = _budget(None, args)
    else:
        spec = grid_from_args(replace_ns(args, epochs=None))  # --epochs: epochs per trial here
        keys, budget = grid_keys(spec), _budget(spec.tuning, args)
    check_datasets(dict.fromkeys(k.dataset for k in keys), args.data_dir)
    url = _storage(args)
    summary = tune_studies(
        keys,
        budget,
        url,
        workers=args.workers,
        device=resolve_device(args.device),
        data_dir=args.data_dir,
        progress=not args.no_progress,
    )
    for line in summary.lines():
        print(line)
    print(f"studies: {url}")
    return 0


def replace_ns(args, **changes):
    """A copy of an argparse Namespace with ``changes``."""
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})


def cmd_run(args) -> int:
    import optuna

    from studies.cli import check_datasets, grid_from_args
    from studies.models import resolve_device
    from studies.runner import run_grid
    from studies.store import Store
    from studies.tuning import best_params_for_grid, grid_keys

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    spec = grid_from_args(args)
    workers = args.workers if args.workers is not None else min(2, os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers}")
    device = resolve_device(args.device)
    check_datasets(spec.datasets, args.data_dir)
    url = _storage(args)
    tuning = tune_studies(
        grid_keys(spec),
        spec.tuning,
        url,
        workers=workers,
        device=device,
        data_dir=args.data_dir,
        top_up=True,
        progress=not args.no_progress,
    )
    print(tuning.lines()[-1])
    runs = spec.expand(device=device, tuned=best_params_for_grid(spec, url))
    with Store(args.store) as store:
        summary = run_grid(
            runs,
            store,
            workers=workers,
            scheduler=args.scheduler,
            data_dir=args.data_dir,
            progress=not args.no_progress,
            desc=spec.name,
        )
    for line in summary.lines():
        print(line)
    path = _report(args.store, url, args.out, {"datasets": list(spec.datasets)})
    print(f"report: {path} (landau run took {time.perf_counter() - start:.0f} s)")
    return 0


def _report(store: str, storage: str | None, out: str, meta: dict) -> Path:
    from studies.report_data import build

    command = "landau " + " ".join(sys.argv[1:]) if sys.argv[1:] else "landau"
    path, notes = build(store, storage, out, meta={"command": command, **meta})
    for note in notes:
        print(note)
    return path


def cmd_report(args) -> int:
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(
            f"no results store at {args.store!r}; run `landau run` or `landau grid` first"
        )
    print(f"report: {_report(args.store, args.storage, args.out, {})}")
    return 0


def add_tuning_commands(sub, grid_args, store_arg) -> None:
    tune = sub.add_parser(
        "tune",
        help="tune one study (--variant, --dataset) or a grid's studies",
        description="Add trials to one Optuna study per (variant, dataset, depth). Here --epochs "
        "is epochs per trial and --trials/--seed override the grid's [tuning] budget.",
    )
    grid_args(tune)
    tune.add_argument("--variant", help="tune this variant only (with --dataset)")
    tune.add_argument("--dataset", help="… on this dataset")
    tune.add_argument(
        "--depth", type=int, help="… at this depth (default: every depth of the variant)"
    )
    tune.add_argument(
        "--trials", type=int, help="trials to add per study (default: the grid's, or 8)"
    )
    tune.add_argument("--seed", type=int, help="sampler and training seed (default 0)")
    tune.add_argument(
        "--storage", help="Optuna storage: SQLAlchemy URL or file (default: the store)"
    )

    run = sub.add_parser(
        "run", help="tune, run the grid with the tuned parameters, report (default: quick)"
    )
    grid_args(run)
    run.add_argument("--storage", help="Optuna storage (default: the store)")
    run.add_argument("--out", default=DEFAULT_OUT, help=f"report folder (default: {DEFAULT_OUT})")
    run.set_defaults(workers=None)  # None: min(2, cpu count)

    report = sub.add_parser("report", help="build the report from the store and the studies")
    store_arg(report)
    report.add_argument("--storage", help="Optuna storage (default: the store)")
    report.add_argument(
        "--out", default=DEFAULT_OUT, help=f"report folder (default: {DEFAULT_OUT})"
    )


COMMANDS = {"tune": cmd_tune, "run": cmd_run, "report": cmd_report}
