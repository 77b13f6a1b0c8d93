"""The `landau` command: demo, list, grid, tune, run, report, export.

Bad input (ValueError, including StoreError and DatasetNotFoundError) is one line on stderr and
exit status 2; an internal error is exit status 1 with its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

DEFAULT_STORE = "landau-results/results.db"
DEFAULT_OUT = "landau-results/report"


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=os.environ.get("LANDAU_STORE", DEFAULT_STORE),
        help=f"SQLAlchemy URL or SQLite file (default: {DEFAULT_STORE}, or $LANDAU_STORE)",
    )


def _grid_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec", nargs="?", default="quick", help="grid name or TOML path (default: quick)"
    )
    parser.add_argument("--variants", help="comma list overriding the grid's variants")
    parser.add_argument("--datasets", help="comma list overriding the grid's datasets")
    parser.add_argument("--seeds", type=int, help="repetitions per (variant, dataset, depth)")
    parser.add_argument("--depths", type=_int_list, help="comma list of depths (1, 2)")
    parser.add_argument("--epochs", type=int, help="epochs per run")
    parser.add_argument(
        "--workers", type=int, default=1, help="local worker processes (default 1; `run`: 2)"
    )
    parser.add_argument("--scheduler", help="Dask scheduler address: run on a distributed cluster")
    parser.add_argument(
        "--device", default="auto", help="auto (default: cuda if available), cpu, cuda"
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder with MNIST's IDX files (or $LANDAU_DATA)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _store_arg(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="landau", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train the full model and plain_mlp on moons, print both")
    demo.add_argument("--epochs", type=int, default=20)
    demo.add_argument("--seed", type=int, default=0)

    sub.add_parser("list", help="variants (with descriptions), datasets and grids")

    grid = sub.add_parser("grid", help="run an ablation grid (resumable: stored runs are skipped)")
    _grid_args(grid)
    grid.add_argument(
        "--tuned", action="store_true", help="take each variant's best tuned parameters"
    )
    grid.add_argument("--storage", help="Optuna storage for --tuned (default: the store)")

    export = sub.add_parser("export", help="write the runs table (one row per run)")
    _store_arg(export)
    export.add_argument("--format", default="csv", help="csv (default) or parquet")
    export.add_argument("--out", default=None, help="output file (default: runs.<format>)")

    from studies.cli_tuning import add_tuning_commands  # tune, run, report

    add_tuning_commands(sub, _grid_args, _store_arg)
    return parser


def cmd_demo(args) -> int:
    from studies.config import RunConfig
    from studies.training import train

    print(f"training on moons, depth 2, {args.epochs} epochs, seed {args.seed} …", flush=True)
    for variant in ("full", "plain_mlp"):
        record = train(RunConfig(variant, "moons", args.seed, 2, args.epochs))
        acc = "n/a" if record.test_accuracy is None else f"{record.test_accuracy:.3f}"
        print(
            f"  {variant:10s} test accuracy {acc}  status {record.status}  {record.seconds:.1f} s"
        )
    return 0


def cmd_list(args) -> int:
    from studies.datasets import DATASETS
    from studies.grid import grid_names, load_grid
    from studies.registry import REGISTRY

    print("variants:")
    for entry in REGISTRY.values():
        print(f"  {entry.name:12s} {entry.description}")
    print("datasets:")
    for info in DATASETS.values():
        where = "embedded" if info.embedded else "needs IDX files (--data-dir / LANDAU_DATA)"
        print(f"  {info.name:15s} {info.description} [{where}]")
    print("grids:")
    for name in grid_names():
        print(f"  {name:10s} {load_grid(name).description}")
    return 0


def grid_from_args(args):
    from studies.datasets import DATASETS
    from studies.grid import load_grid
    from studies.registry import REGISTRY, parse_names

    spec = load_grid(args.spec)
    return spec.with_overrides(
        variants=parse_names(args.variants, REGISTRY, "variant") if args.variants else None,
        datasets=parse_names(args.datasets, DATASETS, "dataset") if args.datasets else None,
        seeds=args.seeds,
        depths=args.depths,
        epochs=args.epochs,
    )


def ensure_default_store_dir(store: str) -> None:
    """Create the folder of the default store; a path the user typed must exist already."""
    if store == DEFAULT_STORE:
        Path(DEFAULT_STORE).parent.mkdir(parents=True, exist_ok=True)


def check_datasets(datasets, data_dir) -> None:
    """Load every dataset up front so a missing one is bad input before the store is touched."""
    from studies.datasets import load_dataset

    for name in datasets:
        load_dataset(name, data_dir=data_dir)


def cmd_grid(args) -> int:
    from studies.models import resolve_device
    from studies.runner import run_grid
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
        )
    for line in summary.lines():
        print(line)
    print(f"results: {args.store}")
    return 0


def cmd_export(args) -> int:
    from studies.store import Store

    if args.format not in ("csv", "parquet"):
        raise ValueError(f"unknown format {args.format!r}; known: csv, parquet")
    out = Path(args.out or f"runs.{args.format}")
    with Store(args.store) as store:
        path = store.export(out, format=args.format)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from studies.cli_tuning import COMMANDS as TUNING_COMMANDS

    commands = {
        "demo": cmd_demo,
        "list": cmd_list,
        "grid": cmd_grid,
        "export": cmd_export,
        **TUNING_COMMANDS,
    }
    try:
        return commands[args.command](args)
    except ValueError as exc:
        print(f"landau {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: finished runs are stored; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except Exception:
        traceback.print_exc()
        print(
            f"landau {args.command}: internal error (a bug: please report it with the "
            "traceback above)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
