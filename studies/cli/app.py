"""The `landau` command: demo, list, grid, tune, run, report, export, compare, dashboard,
experiments.

Bad input is one line on stderr and exit status 2, never a usage block or a traceback:
argparse's errors (``_Parser.error``), ValueError (including StoreError and
DatasetNotFoundError) and a full disk (the store stays intact: a run is one transaction).
Ctrl-C is exit 130 and SIGTERM exit 143, each with one line (finished runs are stored); an
internal error is exit status 1 with its traceback.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
import traceback

from studies.cli import (
    budgets,
    compare,
    dashboard,
    demo,
    experiments,
    export,
    grid,
    listing,
    report,
    run,
    tune,
)

# Command name -> module with add_parser(sub) and run(args); the order is the help's order.
COMMANDS = {
    "demo": demo,
    "list": listing,
    "grid": grid,
    "export": export,
    "tune": tune,
    "run": run,
    "budgets": budgets,
    "report": report,
    "compare": compare,
    "dashboard": dashboard,
    "experiments": experiments,
}


class UsageError(Exception):
    """A command line argparse refuses; its message is the one line to print."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: the same clean-up runs."""


class _Parser(argparse.ArgumentParser):
    """argparse's errors as one line (``landau tune: error: ...``), not the usage block."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: error: {message}")


def suite_version() -> str:
    """The installed distribution's version ("unknown" when run from a bare checkout)."""
    from importlib import metadata

    try:
        return metadata.version("landau-bench")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="landau", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"landau {suite_version()}")
    sub = parser.add_subparsers(dest="command", required=True)  # subparsers: _Parser too
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


_RECEIVED: list[int] = []  # signals received while a command runs (a library may swallow one)


def _terminate(signum, _frame) -> None:
    _RECEIVED.append(signum)
    raise Terminated


def _interrupt(signum, frame) -> None:
    _RECEIVED.append(signum)
    signal.default_int_handler(signum, frame)


def _interrupted(command: str, terminated: bool) -> int:
    what = "terminated (SIGTERM)" if terminated else "interrupted"
    print(
        f"landau {command}: {what}: finished runs and trials are stored; run the same "
        "command again to resume",
        file=sys.stderr,
    )
    return 143 if terminated else 130


def _disk_full(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` (or what caused it) is a full disk, else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for candidate in (exc, getattr(exc, "orig", None)):
            if isinstance(candidate, OSError) and candidate.errno == errno.ENOSPC:
                return candidate.strerror or "no space left on device"
            if candidate is not None and "database or disk is full" in str(candidate):
                return "database or disk is full"
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGTERM, _terminate), signal.getsignal(signal.SIGINT)
        if previous[1] is signal.default_int_handler:  # not when Ctrl-C is ignored
            signal.signal(signal.SIGINT, _interrupt)
    _RECEIVED.clear()
    try:
        from studies.experiment.plugins import load_entry_points

        load_entry_points()  # installed plugins (entry-point group landau_bench.variants)
        code = COMMANDS[args.command].run(args)
        if _RECEIVED:  # swallowed on the way (a library's broad except): still a signal's end
            return _interrupted(args.command, _RECEIVED[0] == signal.SIGTERM)
        return code
    except KeyboardInterrupt as exc:
        return _interrupted(args.command, isinstance(exc, Terminated))
    except Exception as exc:
        if _RECEIVED:  # an error a signal caused (a library wrapped the interruption)
            return _interrupted(args.command, _RECEIVED[0] == signal.SIGTERM)
        if isinstance(exc, ValueError):
            print(f"landau {args.command}: error: {exc}", file=sys.stderr)
            return 2
        reason = _disk_full(exc)
        if reason is not None:
            print(
                f"landau {args.command}: error: the disk is full ({reason}); the store is intact "
                "(each run and trial is one transaction: finished ones are kept, the one in "
                "flight is not); free space and run the same command again to resume",
                file=sys.stderr,
            )
            return 2
        traceback.print_exc()
        print(
            f"landau {args.command}: internal error (a bug: please report it with the "
            "traceback above)",
            file=sys.stderr,
        )
        return 1
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


if __name__ == "__main__":
    sys.exit(main())
