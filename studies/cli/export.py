"""`landau export`: write the runs table (one row per run)."""

from __future__ import annotations

from pathlib import Path

from studies.cli.common import add_store_arg, check_out_file


def add_parser(sub) -> None:
    export = sub.add_parser("export", help="write the runs table (one row per run)")
    add_store_arg(export)
    export.add_argument("--format", default="csv", help="csv (default) or parquet")
    export.add_argument("--out", default=None, help="output file (default: runs.<format>)")
    export.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args) -> int:
    from studies.store import Store

    if args.format not in ("csv", "parquet"):
        raise ValueError(f"unknown format {args.format!r}; known: csv, parquet")
    out = Path(args.out or f"runs.{args.format}")
    if "://" not in str(args.store) and not Path(args.store).is_file():
        raise ValueError(f"no results store at {args.store!r} (nothing to export)")
    check_out_file(out, force=args.force)
    with Store(args.store) as store:
        try:
            path = store.export(out, format=args.format)
        except OSError as exc:  # read-only or full file system, ...
            raise ValueError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
    print(f"wrote {path}")
    return 0
