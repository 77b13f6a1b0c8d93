"""What several commands share: default paths, the grid arguments, up-front checks.

Imports of torch and the experiment machinery stay inside the functions, so that `landau list`
and `landau --help` start quickly.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_STORE = "landau-results/results.db"
DEFAULT_OUT = "landau-results/report"


MAX_EPOCHS = 10_000  # per run or per trial
MAX_TRIALS = 10_000  # per study
MAX_WORKERS = 256  # processes, and intra-op threads per process
MAX_SEED = 2**32 - 1
MAX_SEED_BATCH = 10_000  # seeds trained as one model
MAX_PORT = 65_535


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def bounded_int(name: str, low: int, high: int | None = None):
    """An argparse type: an integer in [low, high] (no upper bound when high is None), or
    one line naming the rule and the value."""
    rule = f"`{name} >= {low}`" if high is None else f"`{low} <= {name} <= {high}`"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{rule} must hold for an integer, but got {name}={text!r}"
            ) from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{rule} must hold, but got {name}={value}")
        return value

    return parse


def add_store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=os.environ.get("LANDAU_STORE", DEFAULT_STORE),
        help=f"SQLAlchemy URL or SQLite file (default: {DEFAULT_STORE}, or $LANDAU_STORE)",
    )


def add_grid_args(parser: argparse.ArgumentParser) -> None:
    from studies.experiment.grid import MAX_RUNS  # no torch: the grid's data only

    parser.add_argument(
        "spec", nargs="?", default="quick", help="grid name or TOML path (default: quick)"
    )
    parser.add_argument("--variants", help="comma list overriding the grid's variants")
    parser.add_argument("--datasets", help="comma list overriding the grid's datasets")
    parser.add_argument(
        "--seeds",
        type=bounded_int("seeds", 1),
        help=f"repetitions per (variant, dataset, depth); a grid has at most {MAX_RUNS:,} runs",
    )
    parser.add_argument(
        "--data-seeds",
        type=bounded_int("data_seeds", 1),
        help="independent data splits per cell (the grid's data_seeds)",
    )
    parser.add_argument("--depths", type=int_list, help="comma list of depths (1, 2)")
    parser.add_argument(
        "--epochs", type=bounded_int("epochs", 1, MAX_EPOCHS), help="epochs per run"
    )
    parser.add_argument(
        "--workers",
        type=bounded_int("workers", 1, MAX_WORKERS),
        default=1,
        help="local worker processes (default 1; `run`: 2)",
    )
    parser.add_argument(
        "--threads",
        type=bounded_int("threads", 1, MAX_WORKERS),
        default=1,
        help="intra-op threads per training process (default 1: a loaded machine then slows "
        "the grid in proportion)",
    )
    parser.add_argument(
        "--population",
        "--seed-batch",  # deprecated alias (its old name)
        dest="population",
        type=bounded_int("population", 1, MAX_SEED_BATCH),
        default=None,
        help="train at most N runs of a cell as one model (default: all of them; 1: one run at "
        "a time); a run's result is the same whatever N (--seed-batch: the old name)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="train torch runs under torch.compile: compiling costs tens of seconds per run on a "
        "2-core CPU, so it pays only for long runs (MNIST, many epochs), never on the quick "
        "grid; compiled runs round differently and so get their own run ids",
    )
    parser.add_argument(
        "--reuse-stale",
        action="store_true",
        help="keep stored runs that other code produced (default: retrain them; the plan and "
        "the summary say how many there are)",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address: run on a distributed cluster")
    parser.add_argument(
        "--device", default="auto", help="auto (default: cuda if available), cpu, cuda"
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder with MNIST's IDX files (or $LANDAU_DATA)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_set_arg(parser)
    add_experiment_arg(parser)
    add_store_arg(parser)


def add_set_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="set",
        help="hyperparameter override, repeatable, validated like the grid's [params]; VALUE is "
        "a TOML literal (--set temperature=0 --set hidden=64)",
    )


def parse_sets(items: list[str] | None) -> dict:
    """``["hidden=64", "lr=1e-3"]`` -> ``{"hidden": 64, "lr": 0.001}`` (values as TOML
    literals); a repeated key keeps its last value."""
    import tomllib

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise ValueError(f"--set takes KEY=VALUE (e.g. --set hidden=64), but got {item!r}")
        if not item.isprintable():  # a newline would smuggle in a second TOML line
            raise ValueError(
                f"--set takes one KEY=VALUE on one line, without control characters (repeat "
                f"--set for more: --set hidden=8 --set lr=5), but got {item!r}"
            )
        try:
            out[key] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(
                f'--set {item}: VALUE must be a TOML literal (64, 0.01, 1e-3, true, "text"), '
                f"but got {value.strip()!r}"
            ) from None
    return out


def sets_label(sets: dict) -> str:
    """``[hidden=64,temperature=0.0]``: what --set adds to the default experiment name."""
    return "[" + ",".join(f"{k}={v}" for k, v in sorted(sets.items())) + "]" if sets else ""


def add_experiment_arg(parser: argparse.ArgumentParser, *, report: bool = False) -> None:
    if report:
        text = "report this experiment only (default: the one written most recently)"
    else:
        text = "record the runs/studies as members of this experiment (default: the grid's name)"
    parser.add_argument("--experiment", type=experiment_name, default=None, help=text)


def experiment_name(text: str) -> str:
    """An argparse type: an experiment name (``''`` is refused, not the default name)."""
    from ablations.spec import check_experiment_name

    try:
        return check_experiment_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_replace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replace",
        action="store_true",
        help="make this grid's runs the experiment's runs (an earlier plan under the same "
        "--experiment that was not finished is otherwise refused; stored runs stay stored)",
    )


def grid_from_args(args):
    """The grid named by ``args.spec`` with the command-line overrides applied."""
    from studies.experiment.grid_file import load_grid
    from studies.experiment.registry import REGISTRY, parse_names

    spec = load_grid(args.spec)
    known = spec.known_datasets  # the built-in ones and the grid's [custom_datasets]
    spec = spec.with_overrides(
        variants=parse_names(args.variants, REGISTRY, "variant") if args.variants else None,
        datasets=parse_names(args.datasets, known, "dataset") if args.datasets else None,
        seeds=args.seeds,
        data_seeds=getattr(args, "data_seeds", None),
        depths=args.depths,
        epochs=args.epochs,
    )
    sets = parse_sets(getattr(args, "set", None))
    if not sets:
        return spec
    known = sorted({k for v in spec.variants for k in REGISTRY[v].defaults})
    for key in sets:
        if key not in known:
            raise ValueError(
                f"unknown parameter {key!r} in --set {key}=…; the grid's variants take: "
                f"{', '.join(known)}"
            )
    return spec.with_overrides(params={**spec.params, **sets})  # validated as [params]


def check_scheduler(args) -> None:
    """--scheduler must answer before anything is stored (bad input changes nothing)."""
    if getattr(args, "scheduler", None):
        from studies.tuning.workers import dask_client

        dask_client(args.scheduler).close()


def refuse_tuned_sets(args, spec, where: str) -> None:
    """--set of a parameter that tuning chooses would be overridden by the tuned value: refused
    wherever tuned values are used (``where``), naming the variants that tune it."""
    from studies.tuning import tuned_names

    for key in parse_sets(getattr(args, "set", None)):
        tuning = [v for v in spec.variants if key in tuned_names(v)]
        if tuning:
            raise ValueError(
                f"--set {key}=… with {where}: {key} is tuned for {', '.join(tuning)}, so the "
                "tuned value would replace it; --set fixes untuned parameters there (hidden, "
                f"batch_size, …), or run `landau grid` without --tuned"
            )


def default_experiment(args, spec) -> str:
    """--experiment, else the grid's name with the --set overrides: ``quick[hidden=64]`` (runs
    with other parameters are another experiment, not a second run of the same cell)."""
    if args.experiment is not None:
        return args.experiment
    return spec.name + sets_label(parse_sets(getattr(args, "set", None)))


def ensure_default_store_dir(store: str) -> None:
    """Create the folder of the default store; a path the user typed must exist already."""
    if store == DEFAULT_STORE:
        Path(DEFAULT_STORE).parent.mkdir(parents=True, exist_ok=True)


def stored_ids(store: str) -> set[str]:
    """The run ids stored in ``store``; empty, and nothing created, when its file is not there."""
    if "://" not in str(store) and not Path(store).is_file():
        return set()
    from studies.store import Store

    with Store(store) as opened:
        return opened.completed_ids()


def check_datasets(datasets, data_dir, custom=None) -> None:
    """Load every dataset up front so a missing one is bad input before the store is touched
    (``custom``: the grid's [custom_datasets], name -> spec)."""
    datasets = list(datasets)
    if not datasets:  # nothing to train: torch stays unimported
        return
    from studies.data import load_dataset

    for name in datasets:
        load_dataset(name, data_dir=data_dir, custom=(custom or {}).get(name))


def tuning_storage(args) -> str:
    """--storage, or the results store (opened first, so the file is marked as a landau store)."""
    from studies.store import Store
    from studies.tuning import storage_url

    if args.storage:
        from studies.tuning import open_storage

        open_storage(args.storage)  # a foreign file is refused before anything is written
        return storage_url(args.storage)
    ensure_default_store_dir(args.store)
    Store(args.store).close()
    return storage_url(args.store)


def run_options(args: argparse.Namespace, workers: int) -> dict:
    """The keyword arguments of ``run_grid`` that `grid` and `run` take from the command line."""
    return {
        "workers": workers,
        "scheduler": args.scheduler,
        "data_dir": args.data_dir,
        "progress": not args.no_progress,
        "threads": args.threads,
        "seed_batch": args.population,
        "compile": args.compile,
        "reuse_stale": args.reuse_stale,
    }


def replace_ns(args: argparse.Namespace, **changes) -> argparse.Namespace:
    """A copy of an argparse Namespace with ``changes``."""
    return argparse.Namespace(**{**vars(args), **changes})
