"""Experiments: named sets of runs and studies, so that a report covers exactly one of them.

A run shared by two experiments is stored once and belongs to both. Membership is recorded when
a grid or a tune starts, so it may name runs not stored yet (the report shows them missing).
Several grids may add their runs to one experiment (the standard report's claims, standard and
tuned grids); a grid whose plan differs from an earlier, unfinished one (members not stored that
it does not ask for) is refused unless it replaces the experiment's runs (``replace=True``).
Deleting an experiment removes its memberships only: runs and studies stay stored, for the
experiments that share them and for later grids to skip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ablations.spec import check_experiment_name
from studies.store.schema import (
    experiment_runs,
    experiment_studies,
    experiments,
    run_settings,
    runs,
)

__all__ = ["ExperimentsMixin"]

SETTING_COLUMNS = ("run_id", "params_source", "study_name", "trial_number", "sweep")
_EXPERIMENT_DTYPES = {
    "name": "str",
    "created_at": "datetime64[us]",
    "updated_at": "datetime64[us]",
    "n_runs": "int64",
    "n_studies": "int64",
}


class ExperimentsMixin:
    """The experiment methods of ``Store`` (which provides ``_writing`` and ``_rows``)."""

    def add_to_experiment(
        self,
        name: str,
        run_ids: Sequence[str] = (),
        study_names: Sequence[str] = (),
        settings: Sequence[Mapping[str, Any]] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Make runs and studies members of experiment ``name`` (created if new; a member
        already there stays once). Members may be recorded before they are stored.

        ``settings`` (dicts with the keys of SETTING_COLUMNS) record under which setting the
        experiment asked for each run: a run stored once may serve two settings (a tuned run
        whose study chose the fixed protocol's values is the fixed run), and the report counts
        it under each (``reports.data.add_settings``). Their runs become members too.

        ``replace``: these runs and settings replace the experiment's (its studies stay)."""
        check_experiment_name(name)
        settings = [{k: s.get(k) for k in SETTING_COLUMNS} for s in settings]
        run_ids = [*run_ids, *(s["run_id"] for s in settings)]
        for attempt in range(2):  # PostgreSQL: a concurrent writer may insert the same row
            try:
                with self._writing() as conn:
                    if replace:
                        for table in (experiment_runs, run_settings):
                            conn.execute(sa.delete(table).where(table.c.experiment == name))
                    self._add_members(conn, name, run_ids, study_names)
                    self._add_settings(conn, name, settings)
                return
            except IntegrityError:
                if attempt:
                    raise

    def _add_members(self, conn, name, run_ids, study_names) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        exists = conn.execute(sa.select(experiments.c.name).where(experiments.c.name == name))
        if exists.first():
            conn.execute(
                sa.update(experiments).where(experiments.c.name == name).values(updated_at=now)
            )
        else:
            conn.execute(
                sa.insert(experiments), [{"name": name, "created_at": now, "updated_at": now}]
            )
        for table, column, values in (
            (experiment_runs, "run_id", run_ids),
            (experiment_studies, "study_name", study_names),
        ):
            have = set(
                conn.execute(sa.select(table.c[column]).where(table.c.experiment == name)).scalars()
            )
            new = sorted(set(values) - have)
            if new:
                conn.execute(sa.insert(table), [{"experiment": name, column: v} for v in new])

    def _add_settings(self, conn, name, settings) -> None:
        s = run_settings.c
        have = set(
            conn.execute(sa.select(s.run_id, s.params_source).where(s.experiment == name)).all()
        )
        new = {}
        for row in settings:
            key = (row["run_id"], row["params_source"])
            if key not in have:
                new[key] = {"experiment": name, **row}
        if new:
            conn.execute(sa.insert(run_settings), list(new.values()))

    def run_settings_frame(self, name: str | None = None) -> pd.DataFrame:
        """The settings experiment ``name`` asked its runs under (None: every experiment's,
        once per run and setting): the columns of SETTING_COLUMNS."""
        s = run_settings.c
        stmt = sa.select(*(s[c] for c in SETTING_COLUMNS)).distinct()
        if name is not None:
            stmt = stmt.where(s.experiment == name)
        rows = self._rows(stmt.order_by(s.run_id, s.params_source))
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(SETTING_COLUMNS))
        return frame.astype({"trial_number": "Int64"})

    def experiments_frame(self) -> pd.DataFrame:
        """One row per experiment: name, created_at, updated_at, n_runs (members), n_studies."""
        e = experiments.c
        n_runs = (
            sa.select(sa.func.count())
            .where(experiment_runs.c.experiment == e.name)
            .scalar_subquery()
        )
        n_studies = (
            sa.select(sa.func.count())
            .where(experiment_studies.c.experiment == e.name)
            .scalar_subquery()
        )
        rows = self._rows(
            sa.select(e.name, e.created_at, e.updated_at, n_runs, n_studies).order_by(e.name)
        )
        return pd.DataFrame([tuple(r) for r in rows], columns=list(_EXPERIMENT_DTYPES)).astype(
            _EXPERIMENT_DTYPES
        )

    def latest_experiment(self) -> str | None:
        """The experiment written most recently (None when there is none)."""
        e = experiments.c
        found = self._rows(sa.select(e.name).order_by(e.updated_at.desc(), e.name).limit(1))
        return found[0].name if found else None

    def experiment_members(self, name: str) -> tuple[set[str], set[str]]:
        """(run ids, study names) of experiment ``name``; ValueError lists the known ones."""
        if not self._rows(sa.select(experiments.c.name).where(experiments.c.name == name)):
            known = ", ".join(self.experiments_frame()["name"]) or "none yet"
            raise ValueError(f"unknown experiment {name!r}; known: {known}")
        run_ids = self._rows(
            sa.select(experiment_runs.c.run_id).where(experiment_runs.c.experiment == name)
        )
        studies = self._rows(
            sa.select(experiment_studies.c.study_name).where(
                experiment_studies.c.experiment == name
            )
        )
        return {r.run_id for r in run_ids}, {r.study_name for r in studies}

    def unstored_members(self, name: str) -> set[str]:
        """The run ids experiment ``name`` counts as members but the store does not hold (planned
        by a grid that has not finished them); empty for an unknown experiment."""
        member = experiment_runs.c
        stored = sa.select(runs.c.run_id).where(runs.c.run_id == member.run_id)
        rows = self._rows(
            sa.select(member.run_id).where(member.experiment == name, ~stored.exists())
        )
        return {r.run_id for r in rows}

    def delete_experiment(self, name: str) -> tuple[int, int]:
        """Remove experiment ``name``: its run and study memberships and its settings (one
        transaction). Runs and studies stay stored. Returns (runs, studies) it had; ValueError
        lists the known experiments."""
        run_ids, study_names = self.experiment_members(name)
        with self._writing() as conn:
            for table in (run_settings, experiment_runs, experiment_studies):
                conn.execute(sa.delete(table).where(table.c.experiment == name))
            conn.execute(sa.delete(experiments).where(experiments.c.name == name))
        return len(run_ids), len(study_names)
