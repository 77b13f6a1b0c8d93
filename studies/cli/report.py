"""`landau report`: build the report from the store and the studies."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

from studies.cli.common import DEFAULT_OUT, add_experiment_arg, add_store_arg, experiment_name
from studies.cli.outputs import check_report_out

OUT_HELP = (
    f"report folder, replaced whole (default: {DEFAULT_OUT}/<experiment>, one folder per "
    "experiment)"
)


def add_out_arg(parser) -> None:
    """--out: None (the default) means the experiment's own folder under DEFAULT_OUT."""
    parser.add_argument("--out", default=None, help=OUT_HELP)


def add_parser(sub) -> None:
    report = sub.add_parser("report", help="build the report from the store and the studies")
    add_store_arg(report)
    report.add_argument("--storage", help="Optuna storage (default: the store)")
    add_experiment_arg(report, report=True)
    report.add_argument(
        "--replicate",
        metavar="B",
        type=experiment_name,
        default=None,
        help="another experiment of the store, the same design at another base seed and data "
        "seed: the report says for every claim whether its verdict replicates there",
    )
    add_out_arg(report)


def write_report(
    store: str,
    storage: str | None,
    out: str | None,
    meta: dict,
    *,
    experiment: str | None = None,
    progress: bool = True,
    replicate: str | None = None,
) -> Path:
    """Build the report of ``experiment`` (default: the latest) into ``out``, or into the
    experiment's own folder under DEFAULT_OUT when ``out`` is None; print its notes; the path
    of its index. With ``progress`` each stage and section is named on stdout as it starts
    (stderr is kept for errors: bad input is one line there). ``replicate``: another
    experiment whose verdicts the report sets beside this one's."""
    from studies.report_data import build

    def stage(text: str) -> None:
        print(f"report: {text} …", flush=True)

    command = "landau " + " ".join(sys.argv[1:]) if sys.argv[1:] else "landau"
    path, notes = build(
        store,
        storage,
        DEFAULT_OUT if out is None else out,
        meta={"command": command, **meta},
        experiment=experiment,
        progress=stage if progress else None,
        per_experiment=out is None,
        replicate=replicate,
    )
    for note in notes:
        print(note)
    return path


def run(args) -> int:
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(
            f"no results store at {args.store!r}; run `landau run` or `landau grid` first"
        )
    check_report_out(args.out)
    try:
        path = write_report(
            args.store, args.storage, args.out, {}, experiment=args.experiment,
            replicate=getattr(args, "replicate", None),
        )  # fmt: skip
    except OSError as exc:  # read-only or full file system, ...
        if exc.errno == errno.ENOSPC:
            raise
        raise ValueError(
            f"cannot write the report into {args.out or DEFAULT_OUT!r}: {exc}"
        ) from exc
    print(f"report: {path}")
    return 0
