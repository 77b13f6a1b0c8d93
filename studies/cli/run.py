"""`landau run`: tune each study of a grid up to its budget, run the grid with the tuned
parameters, write the report. Running it again resumes instead of adding trials.
"""

from __future__ import annotations

import os
import time

from studies.cli.common import (
    add_grid_args,
    add_replace_arg,
    check_datasets,
    check_scheduler,
    default_experiment,
    grid_from_args,
    refuse_tuned_sets,
    run_options,
    tuning_storage,
)
from studies.cli.outputs import check_report_out
from studies.cli.report import add_out_arg, write_report


def add_parser(sub) -> None:
    run_ = sub.add_parser(
        "run", help="tune, run the grid with the tuned parameters, report (default: quick)"
    )
    add_grid_args(run_)
    run_.add_argument("--storage", help="Optuna storage (default: the store)")
    add_out_arg(run_)
    add_replace_arg(run_)
    run_.set_defaults(workers=None)  # None: min(2, cpu count)


def run(args) -> int:
    import optuna

    from studies.cli.plan import plan_line, plan_seconds
    from studies.experiment import resolve_device, run_grid
    from studies.store import Store
    from studies.tuning import best_params_for_grid, grid_keys, study_name, tune_studies

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    spec = grid_from_args(args)
    refuse_tuned_sets(args, spec, "`landau run` (it tunes)")
    check_report_out(args.out)  # before hours of tuning
    workers = args.workers if args.workers is not None else min(2, os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={workers}")
    device = resolve_device(args.device)
    check_datasets(spec.datasets, args.data_dir, spec.custom_datasets)
    check_scheduler(args)
    url = tuning_storage(args)
    experiment = default_experiment(args, spec)
    keys = grid_keys(spec)
    with Store(args.store) as store:
        store.add_to_experiment(experiment, study_names=[study_name(k, spec.tuning) for k in keys])
        try:  # the runs to come, for the plan: with the parameters tuned so far, if any
            runs = spec.expand(device=device, tuned=best_params_for_grid(spec, url))
        except ValueError:  # not every study has a finished trial yet
            runs = spec.expand(device=device)
        t = spec.tuning
        plan = plan_line(
            store,
            runs,
            keys=keys,
            trials=t.trials,
            trial_epochs=t.epochs,
            device=device,
            workers=workers,
            reuse_stale=args.reuse_stale,
        )
        print(f"{plan} (tuning tops each study up to {t.trials} trials)", flush=True)
    tuning = tune_studies(
        keys,
        spec.tuning,
        url,
        workers=workers,
        device=device,
        data_dir=args.data_dir,
        top_up=True,
        progress=not args.no_progress,
        threads=args.threads,
        scheduler=args.scheduler,
    )
    print(tuning.lines()[-1])
    runs = spec.expand(device=device, tuned=best_params_for_grid(spec, url))
    with Store(args.store) as store:
        expected = plan_seconds(
            store, runs, device=device, workers=workers, reuse_stale=args.reuse_stale
        )
        summary = run_grid(
            runs,
            store,
            desc=experiment,
            experiment=experiment,
            replace=args.replace,
            expected_seconds=expected,
            **run_options(args, workers),
        )
    for line in summary.lines():
        print(line)
    path = write_report(
        args.store,
        url,
        args.out,
        {"datasets": list(spec.datasets)},
        experiment=experiment,
        progress=not args.no_progress,
    )
    print(f"report: {path} (landau run took {time.perf_counter() - start:.0f} s)")
    return 0
