"""The `landau` command: demo, list, grid, tune, run, report, export, compare.

Bad input (ValueError, including StoreError and DatasetNotFoundError) is one line on stderr and
exit status 2; an internal error is exit status 1 with its traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from studies.cli import compare, demo, export, grid, listing, report, run, tune

# Command name -> module with add_parser(sub) and run(args); the order is the help's order.
COMMANDS = {
    "demo": demo,
    "list": listing,
    "grid": grid,
    "export": export,
    "tune": tune,
    "run": run,
    "report": report,
    "compare": compare,
}


def suite_version() -> str:
    """The installed distribution's version ("unknown" when run from a bare checkout)."""
    from importlib import metadata

    try:
        return metadata.version("landau-bench")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="landau", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"landau {suite_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
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
