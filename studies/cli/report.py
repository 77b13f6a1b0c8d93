"""`landau report`: build the report from the store and the studies."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

from studies.cli.common import DEFAULT_OUT, add_experiment_arg, add_store_arg, check_out_dir


def add_parser(sub) -> None:
    report = sub.add_parser("report", help="build the report from the store and the studies")
    add_store_arg(report)
    report.add_argument("--storage", help="Optuna storage (default: the store)")
    add_experiment_arg(report, report=True)
    report.add_argument(
        "--out", default=DEFAULT_OUT, help=f"report folder (default: {DEFAULT_OUT})"
    )


def write_report(
    store: str,
    storage: str | None,
    out: str,
    meta: dict,
    *,
    experiment: str | None = None,
    progress: bool = True,
) -> Path:
    """Build the report of ``experiment`` (default: the latest); print its notes; the path of
    its index. With ``progress`` each stage and section is named on stderr as it starts."""
    from studies.report_data import build

    def stage(text: str) -> None:
        print(f"report: {text} …", file=sys.stderr, flush=True)

    command = "landau " + " ".join(sys.argv[1:]) if sys.argv[1:] else "landau"
    path, notes = build(
        store,
        storage,
        out,
        meta={"command": command, **meta},
        experiment=experiment,
        progress=stage if progress else None,
    )
    for note in notes:
        print(note)
    return path


def run(args) -> int:
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(
            f"no results store at {args.store!r}; run `landau run` or `landau grid` first"
        )
    check_out_dir(Path(args.out), default=DEFAULT_OUT)
    try:
        path = write_report(args.store, args.storage, args.out, {}, experiment=args.experiment)
    except OSError as exc:  # read-only or full file system, ...
        if exc.errno == errno.ENOSPC:
            raise
        raise ValueError(f"cannot write the report into {args.out!r}: {exc}") from exc
    print(f"report: {path}")
    return 0
