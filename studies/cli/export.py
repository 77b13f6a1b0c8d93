"""`landau export`: every stored frame of one experiment (or of all), as Parquet, CSV or JSON.

One file per frame (runs, epochs, betas, meshes, points, loss_ranking, trials, experiments,
experiment_members, run_settings) in a folder, by default under the results folder:
``landau-results/export/<experiment or all>/``. Columns and dtypes are the data model's
(docs/data-model.md); integer hyperparameters stay integers (nullable Int64).
"""

from __future__ import annotations

import re
from pathlib import Path

from studies.cli.common import DEFAULT_STORE, add_store_arg, check_out_dir, experiment_name

FORMATS = ("parquet", "csv", "json")
DEFAULT_EXPORT = "<results folder>/export"  # the store file's folder: landau-results/


def add_parser(sub) -> None:
    export = sub.add_parser(
        "export",
        help="write every stored frame (runs, epochs, betas, trials, …) of one experiment or all",
        description="Write one file per frame: runs, epochs, betas, meshes, points, "
        "loss_ranking, trials, experiments, experiment_members, run_settings.",
    )
    add_store_arg(export)
    export.add_argument("--storage", help="Optuna storage for the trials (default: the store)")
    export.add_argument(
        "--experiment",
        type=experiment_name,
        default=None,
        help="export this experiment only (default: everything)",
    )
    export.add_argument(
        "--format", default="parquet", help=f"{', '.join(FORMATS)} (default: parquet)"
    )
    export.add_argument(
        "--out",
        default=None,
        help=f"output folder (default: {DEFAULT_EXPORT}/<experiment or all>/)",
    )
    export.add_argument(
        "--force", action="store_true", help="overwrite export files already in the folder"
    )


def _slug(name: str) -> str:
    """A folder name for an experiment name such as ``quick[hidden=64]``."""
    return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", name).strip("._") or "experiment"


def write_frame(frame, path: Path, format: str) -> None:
    from reports.escape import spreadsheet_safe

    if format == "parquet":
        frame.to_parquet(path, index=False)
    elif format == "csv":  # a text cell a spreadsheet would run as a formula gets a leading '
        spreadsheet_safe(frame).to_csv(path, index=False)
    else:  # records; integers as integers, NaN/NA as null, times as ISO 8601
        frame.to_json(path, orient="records", date_format="iso", indent=1)


def run(args) -> int:
    from studies.report_data import export_frames

    if args.format not in FORMATS:
        raise ValueError(f"unknown format {args.format!r}; known: {', '.join(FORMATS)}")
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(f"no results store at {args.store!r}; nothing to export")
    frames = export_frames(args.store, args.storage, experiment=args.experiment)
    if args.out is not None:
        out = Path(args.out)
        check_out_dir(out, default=None)  # a missing parent is refused, as for report/compare
    else:  # beside the store file (the results folder), never the current folder
        local = "://" not in str(args.store)
        results = Path(args.store).parent if local else Path(DEFAULT_STORE).parent
        out = results / "export" / _slug(args.experiment or "all")
    if out.exists() and not out.is_dir():  # the default folder's name taken by a file
        raise ValueError(f"--out must be a folder, but {str(out)!r} is a file")
    existing = [
        f"{name}.{args.format}" for name in frames if (out / f"{name}.{args.format}").exists()
    ]
    if existing and not args.force:
        raise ValueError(
            f"{str(out)!r} already holds {', '.join(existing[:3])}"
            f"{', …' if len(existing) > 3 else ''}; pass --force to overwrite them"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            write_frame(frame, out / f"{name}.{args.format}", args.format)
    except OSError as exc:  # read-only or full file system, a missing parent's permissions, ...
        raise ValueError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in frames.items())
    print(f"wrote {len(frames)} {args.format} files to {out}/ (rows: {counts})")
    return 0
