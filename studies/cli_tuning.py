"""CLI commands that come with tuning and reports (filled in by the tuning and reports work)."""

from __future__ import annotations

COMMANDS: dict = {}


def add_tuning_commands(sub, grid_args, store_arg) -> None:
    return None
