"""`landau grid`: run an ablation grid (resumable: stored runs are skipped)."""

from __future__ import annotations

from studies.cli.common import (
    add_grid_args,
    check_datasets,
    ensure_default_store_dir,
    grid_from_args,
)


def add_parser(sub) -> None:
    grid = sub.add_parser("grid", help="run an ablation grid (resumable: stored runs are skipped)")
    add_grid_args(grid)
    grid.add_argument(
        "--tuned", action="store_true", help="take each variant's best tuned parameters"
    )
    grid.add_argument("--storage", help="Optuna storage for --tuned (default: the store)")


def run(args) -> int:
    from studies.experiment import resolve_device, run_grid
    from studies.store import Store

    spec = grid_from_args(args)
    if args.workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got workers={args.workers}")
    device = resolve_device(args.device)
    tuned = None
    if args.tuned:
        from studies.tuning import best_params_for_grid

        tuned = best_params_for_grid(spec, args.storage or args.store)
    runs = spec.expand(device=device, tuned=tuned)
    check_datasets(spec.datasets, args.data_dir)
    ensure_default_store_dir(args.store)
    with Store(args.store) as store:
        summary = run_grid(
            runs,
            store,
            workers=args.workers,
            scheduler=args.scheduler,
            data_dir=args.data_dir,
            progress=not args.no_progress,
            desc=spec.name,
            threads=args.threads,
            seed_batch=args.seed_batch,
            compile=args.compile,
            experiment=args.experiment or spec.name,
        )
    for line in summary.lines():
        print(line)
    print(f"results: {args.store} (experiment {args.experiment or spec.name!r})")
    return 0
