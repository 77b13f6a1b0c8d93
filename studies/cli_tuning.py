"""The commands tune, run and report.

``landau tune SPEC --workers N`` hands whole studies to N processes
(``studies.tuning_workers``) and prints each study's best trial and Optuna's share of the
tuning wall time. ``landau run`` tunes each study of a grid up to its budget (running it again
resumes instead of adding trials), runs the grid with the tuned parameters and writes the
report.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from studies.cli import DEFAULT_OUT
from studies.tuning_workers import tune_studies


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
        "--storage",
        help="Optuna storage: SQLAlchemy URL or file (default: the store); a server database "
        "(PostgreSQL) lets processes working on one study see each other's trials as they run",
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
