"""`landau tune`: one Optuna study per (variant, dataset, depth), on local processes.

``landau tune SPEC --workers N`` hands whole studies to N processes (``studies.tuning.workers``)
and prints each study's best trial and Optuna's share of the tuning wall time.
"""

from __future__ import annotations

from dataclasses import replace

from studies.cli.common import (
    MAX_EPOCHS,
    MAX_SEED,
    MAX_TRIALS,
    add_grid_args,
    bounded_int,
    check_datasets,
    grid_from_args,
    replace_ns,
    tuning_storage,
)


def add_parser(sub) -> None:
    tune = sub.add_parser(
        "tune",
        help="tune one study (--variant, --dataset) or a grid's studies",
        description="Add trials to one Optuna study per (variant, dataset, depth). Here --epochs "
        "is epochs per trial and --trials/--seed override the grid's [tuning] budget; "
        f"--epochs <= {MAX_EPOCHS} per trial.",
    )
    add_grid_args(tune)
    tune.add_argument("--variant", help="tune this variant only (with --dataset)")
    tune.add_argument("--dataset", help="… on this dataset")
    tune.add_argument(
        "--depth", type=int, help="… at this depth (default: every depth of the variant)"
    )
    trials = tune.add_mutually_exclusive_group()
    trials.add_argument(
        "--trials",
        type=bounded_int("trials", 1, MAX_TRIALS),
        help="each study's budget: trials are added until it has this many finished ones "
        "(a killed tune resumes without overshooting; default: the grid's, or 8)",
    )
    trials.add_argument(
        "--add",
        type=bounded_int("add", 1, MAX_TRIALS),
        help="add this many trials to each study, whatever it holds",
    )
    seed = bounded_int("seed", 0, MAX_SEED)
    tune.add_argument("--seed", type=seed, help="sampler and training seed (default 0)")
    tune.add_argument(
        "--storage",
        help="Optuna storage: SQLAlchemy URL or file (default: the store); a server database "
        "(PostgreSQL) lets processes working on one study see each other's trials as they run",
    )


def budget_from_args(base, args):
    """The grid's [tuning] budget (or the default) with --trials/--epochs/--seed applied."""
    from studies.experiment.grid import TuningBudget

    overrides = {"trials": args.trials, "epochs": args.epochs, "seed": args.seed}
    return replace(base or TuningBudget(), **{k: v for k, v in overrides.items() if v is not None})


def run(args) -> int:
    import optuna

    from studies.experiment import get_variant, resolve_device
    from studies.tuning import StudyKey, grid_keys, tune_studies

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
        budget = budget_from_args(None, args)
    else:
        spec = grid_from_args(replace_ns(args, epochs=None))  # --epochs: epochs per trial here
        keys, budget = grid_keys(spec), budget_from_args(spec.tuning, args)
    check_datasets(dict.fromkeys(k.dataset for k in keys), args.data_dir)
    url = tuning_storage(args)
    if args.variant is None or args.experiment is not None:
        from studies.store import Store
        from studies.tuning import study_name

        experiment = args.experiment or spec.name
        with Store(args.store) as store:
            store.add_to_experiment(experiment, study_names=[study_name(k, budget) for k in keys])
    summary = tune_studies(
        keys,
        budget,
        url,
        top_up=args.add is None,
        add=args.add,
        workers=args.workers,
        device=resolve_device(args.device),
        data_dir=args.data_dir,
        progress=not args.no_progress,
        threads=args.threads,
    )
    for line in summary.lines():
        print(line)
    print(f"studies: {url}")
    return 0
