"""`landau tune`: one Optuna study per (variant, dataset, depth), on local processes or a Dask
cluster.

``landau tune SPEC --workers N`` hands whole studies to N processes (``studies.tuning.workers``),
``--scheduler ADDRESS`` to the workers of a Dask cluster, and prints each study's best trial and
Optuna's share of the tuning wall time. ``--set KEY=VALUE`` fixes an untuned parameter for every
trial; it is part of the study's identity (its name ends ``,KEY=VALUE]``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from studies.cli.common import (
    MAX_EPOCHS,
    MAX_SEED,
    MAX_TRIALS,
    add_grid_args,
    bounded_int,
    check_datasets,
    check_scheduler,
    default_experiment,
    ensure_default_store_dir,
    grid_from_args,
    parse_sets,
    refuse_tuned_sets,
    replace_ns,
    tuning_storage,
)


def add_parser(sub) -> None:
    tune = sub.add_parser(
        "tune",
        help="tune one study (--variant, --dataset) or a grid's studies",
        description="Add trials to one Optuna study per (variant, dataset, depth). Here --epochs "
        "is epochs per trial and --trials/--seed override the grid's [tuning] budget; --set "
        "fixes an untuned parameter (hidden, batch_size, …) for every trial and names it in "
        "the study; --scheduler runs each study as a task on a Dask cluster; "
        f"--epochs <= {MAX_EPOCHS} per trial.",
    )
    add_grid_args(tune)
    for action in tune._actions:  # the grid's options, as tuning reads them
        if action.dest == "epochs":
            action.help = "epochs per trial (default: the grid's [tuning] epochs, or 10)"
        elif action.dest in ("seeds", "data_seeds"):
            action.help = argparse.SUPPRESS  # a trial trains repetition 0 of the grid's first split
        elif action.dest == "scheduler":
            action.help = "Dask scheduler address: each study a task on the cluster's workers"
        elif action.dest == "workers":
            action.help = "local worker processes, each tuning whole studies (default 1)"
        elif action.dest == "population":
            action.help = (
                "ask N trials of a study at once and train them as one model (default: the "
                "grid's [tuning] population, or 1); a trial scores the same in any population, "
                "but N changes which trials TPE asks, so N > 1 is another study (named)"
            )
    tune.add_argument("--variant", help="tune this variant only (with --dataset)")
    tune.add_argument("--dataset", help="… on this dataset")
    tune.add_argument(
        "--depth",
        type=bounded_int("depth", 1, 2),
        help="… at this depth (default: every depth of the variant)",
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
    """The grid's [tuning] budget (or the default) with --trials/--epochs/--seed/--population
    applied."""
    from studies.experiment.grid import TuningBudget

    overrides = {"trials": args.trials, "epochs": args.epochs, "seed": args.seed}
    overrides["population"] = getattr(args, "population", None)
    if args.epochs is not None:  # --epochs: these epochs per trial on every dataset
        overrides["dataset_epochs"] = ()
    return replace(base or TuningBudget(), **{k: v for k, v in overrides.items() if v is not None})


def run(args) -> int:
    import optuna

    from studies.cli.plan import plan_line, plan_seconds
    from studies.data import DATASETS
    from studies.experiment import get_variant, resolve_device
    from studies.experiment.grid_file import load_grid
    from studies.store import Store
    from studies.tuning import (
        StudyKey,
        fixed_params,
        grid_keys,
        study_name,
        tune_studies,
        tuned_names,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in ("seeds", "data_seeds"):
        if getattr(args, name, None) is not None:
            raise ValueError(
                f"--{name.replace('_', '-')} has no meaning for `landau tune`: every trial trains "
                "repetition 0 on the grid's first split (--seed sets the sampler and training seed)"
            )
    if (args.variant is None) != (args.dataset is None):
        raise ValueError("--variant and --dataset go together (one study), or give a grid SPEC")
    if args.variant is not None:
        entry = get_variant(args.variant)
        sets = parse_sets(args.set)
        for key in sets:
            if key not in entry.defaults:
                raise ValueError(
                    f"unknown parameter {key!r} in --set {key}=…; {args.variant} takes: "
                    f"{', '.join(sorted(entry.defaults))}"
                )
        if tuned := sorted(set(sets) & tuned_names(args.variant)):
            raise ValueError(
                f"--set {tuned[0]}=… with `landau tune`: {', '.join(tuned)} is tuned for "
                f"{args.variant}; --set fixes untuned parameters only"
            )
        depths = [args.depth] if args.depth is not None else entry.depths
        fixed = fixed_params(args.variant, sets)
        custom = None if args.dataset in DATASETS else load_grid(args.spec).custom_datasets
        custom = (custom or {}).get(args.dataset)  # a custom one of the grid SPEC
        if args.dataset not in DATASETS and custom is None:
            raise ValueError(
                f"unknown dataset {args.dataset!r}; known: {', '.join(DATASETS)} (a custom "
                "dataset needs its grid: `landau tune GRID.toml --variant … --dataset NAME`)"
            )
        keys = [StudyKey(args.variant, args.dataset, d, fixed, custom) for d in depths]
        budget = budget_from_args(None, args)
    else:
        spec = grid_from_args(replace_ns(args, epochs=None))  # --epochs: epochs per trial here
        refuse_tuned_sets(args, spec, "`landau tune`")
        keys, budget = grid_keys(spec), budget_from_args(spec.tuning, args)
    custom = {k.dataset: k.custom for k in keys if k.custom is not None}
    check_datasets(dict.fromkeys(k.dataset for k in keys), args.data_dir, custom)
    check_scheduler(args)
    url = tuning_storage(args)
    device = resolve_device(args.device)
    ensure_default_store_dir(args.store)
    with Store(args.store) as store:
        if args.variant is None or args.experiment is not None:
            experiment = default_experiment(args, spec) if args.variant is None else args.experiment
            names = [study_name(k, budget) for k in keys]
            store.add_to_experiment(experiment, study_names=names)
        work = {
            "keys": keys,
            "trials": budget.trials,
            "trial_epochs": budget.epochs,
            "device": device,
            "workers": args.workers,
        }
        print(plan_line(store, **work), flush=True)
        expected = plan_seconds(store, **work)
    summary = tune_studies(
        keys,
        budget,
        url,
        top_up=args.add is None,
        add=args.add,
        workers=args.workers,
        device=device,
        data_dir=args.data_dir,
        progress=not args.no_progress,
        threads=args.threads,
        scheduler=args.scheduler,
        expected_seconds=expected,
    )
    for line in summary.lines():
        print(line)
    print(f"studies: {url}")
    return 0
