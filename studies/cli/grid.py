"""`landau grid`: run an ablation grid (resumable: stored runs are skipped)."""

from __future__ import annotations

import shlex

from studies.cli.common import (
    MAX_EPOCHS,
    add_grid_args,
    add_replace_arg,
    bounded_int,
    check_datasets,
    check_scheduler,
    default_experiment,
    ensure_default_store_dir,
    grid_from_args,
    refuse_tuned_sets,
    run_options,
    stored_ids,
)


def add_parser(sub) -> None:
    grid = sub.add_parser("grid", help="run an ablation grid (resumable: stored runs are skipped)")
    add_grid_args(grid)
    grid.add_argument(
        "--tuned", action="store_true", help="take each variant's best tuned parameters"
    )
    grid.add_argument(
        "--tuned-epochs",
        type=bounded_int("tuned_epochs", 1, MAX_EPOCHS),
        metavar="E",
        help="with --tuned: take the studies tuned with E epochs per trial (default: the "
        "grid's [tuning] epochs)",
    )
    grid.add_argument("--storage", help="Optuna storage for --tuned (default: the store)")
    add_replace_arg(grid)


def run(args) -> int:
    from studies.experiment import resolve_device, run_grid
    from studies.store import Store

    spec = grid_from_args(args)
    if args.workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={args.workers}")
    device = resolve_device(args.device)
    check_scheduler(args)
    experiment = default_experiment(args, spec)
    tuned = None
    if args.tuned_epochs is not None and not args.tuned:
        raise ValueError("--tuned-epochs goes with --tuned")
    if args.tuned:
        import optuna

        from studies.tuning import best_params_for_grid

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # as tune and run do

        refuse_tuned_sets(args, spec, "--tuned")
        tuned = best_params_for_grid(
            spec,
            args.storage or args.store,
            epochs=args.tuned_epochs,
            command=f"landau tune {shlex.quote(args.spec)} --store {shlex.quote(args.store)}"
            + (f" --storage {shlex.quote(args.storage)}" if args.storage else ""),
        )
        epochs = spec.tuning.epochs if args.tuned_epochs is None else args.tuned_epochs
        if spec.tuning.dataset_epochs and args.tuned_epochs is None:
            epochs = "each dataset's budget in"  # [tuning] epochs = "dataset"
        print(f"--tuned: the best trials of {len(tuned)} studies tuned with {epochs} epochs/trial")
    runs = spec.expand(device=device, tuned=tuned)
    done = stored_ids(args.store)  # datasets (and torch) only for the runs still to train
    pending = dict.fromkeys(r.dataset for r in runs if r.run_id not in done)
    check_datasets(pending, args.data_dir, spec.custom_datasets)
    ensure_default_store_dir(args.store)
    with Store(args.store) as store:
        from studies.cli.plan import plan_line, plan_seconds

        options = dict(device=device, workers=args.workers, reuse_stale=args.reuse_stale)
        print(plan_line(store, runs, **options), flush=True)
        expected = plan_seconds(store, runs, **options)
        summary = run_grid(
            runs,
            store,
            desc=experiment,
            experiment=experiment,
            replace=args.replace,
            expected_seconds=expected,
            **run_options(args, args.workers),
        )
    for line in summary.lines():
        print(line)
    print(f"results: {args.store} (experiment {experiment!r})")
    return 0
