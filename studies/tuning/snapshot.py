"""Copies of a store's studies that Optuna's own tools open, or that may be changed freely.

The studies of a SQLite store live in a journal table (``studies.tuning.journal``) that only this
suite's ``open_storage`` reads. ``export_studies`` writes them into a new SQLite file with
Optuna's RDB tables, the layout ``optuna.load_study(storage="sqlite:///FILE")``,
``optuna-dashboard sqlite:///FILE`` and the ``optuna`` CLI open; ``snapshot`` copies them into
memory, so that a dashboard can serve them without its delete buttons reaching the store. Both
copy through Optuna's public ``optuna.copy_study`` (directions, user and system attributes,
every trial).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage

__all__ = ["copy_studies", "export_studies", "snapshot"]


def copy_studies(
    source: BaseStorage, target: BaseStorage, names: Iterable[str] | None = None
) -> list[str]:
    """Copy the studies ``names`` (None: all) of ``source`` into ``target``; the names copied,
    sorted. ValueError names a study ``source`` lacks."""
    have = sorted(s.study_name for s in source.get_all_studies())
    wanted = have if names is None else sorted(set(names))
    missing = sorted(set(wanted) - set(have))
    if missing:
        raise ValueError(f"no study {missing[0]!r} in the storage; it holds {len(have)} studies")
    for name in wanted:
        optuna.copy_study(from_study_name=name, from_storage=source, to_storage=target)
    return wanted


def snapshot(storage: BaseStorage) -> InMemoryStorage:
    """Every study of ``storage``, copied into memory: what is changed there stays there."""
    memory = InMemoryStorage()
    copy_studies(storage, memory)
    return memory


def export_studies(
    storage: BaseStorage, path: str | Path, names: Iterable[str] | None = None
) -> list[str]:
    """Write the studies ``names`` (None: all) of ``storage`` into the new SQLite file ``path``
    as Optuna's RDBStorage lays them out; the names written. ValueError when ``path`` exists."""
    path = Path(path)
    if path.exists():
        raise ValueError(f"{str(path)!r} exists; give a new file (or --force to replace it)")
    target = RDBStorage(f"sqlite:///{path.resolve()}")
    try:
        return copy_studies(storage, target, names)
    finally:
        target.engine.dispose()
