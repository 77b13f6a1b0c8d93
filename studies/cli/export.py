"""`landau export`: write the runs table (one row per run)."""

from __future__ import annotations

from pathlib import Path

from studies.cli.common import add_store_arg


def add_parser(sub) -> None:
    export = sub.add_parser("export", help="write the runs table (one row per run)")
    add_store_arg(export)
    export.add_argument("--format", default="csv", help="csv (default) or parquet")
    export.add_argument("--out", default=None, help="output file (default: runs.<format>)")


def run(args) -> int:
    from studies.store import Store

    if args.format not in ("csv", "parquet"):
        raise ValueError(f"unknown format {args.format!r}; known: csv, parquet")
    out = Path(args.out or f"runs.{args.format}")
    with Store(args.store) as store:
        path = store.export(out, format=args.format)
    print(f"wrote {path}")
    return 0
