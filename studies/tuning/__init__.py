"""Tuning with Optuna on equal budgets: one study per (variant, dataset, depth).

``open_storage(store)`` returns the Optuna storage of a results store (a SQLite file or any
SQLAlchemy URL), usable with Optuna's own API: ``optuna.load_study(study_name=...,
storage=open_storage("landau-results/results.db"))``. ``export_studies`` writes the studies into
a SQLite file Optuna's tools open by URL; ``snapshot`` copies them into memory.

Running studies (``tune_study``, ``tune_studies``, ...) trains, and so imports torch: those names
are imported on first use (PEP 562), so that reading studies (export, report, dashboard) does not.
"""

from studies.tuning.best import best_params_for_grid, tuned_epochs
from studies.tuning.keys import StudyKey, fixed_params, grid_keys, study_name, tuned_names
from studies.tuning.snapshot import copy_studies, export_studies, snapshot
from studies.tuning.storage import close_storage, open_storage, storage_url

__all__ = [
    "StudyKey",
    "StudyResult",
    "TuningSummary",
    "best_params_for_grid",
    "close_storage",
    "copy_studies",
    "export_studies",
    "fixed_params",
    "grid_keys",
    "open_storage",
    "prepare_studies",
    "snapshot",
    "storage_url",
    "study_name",
    "tune_study",
    "tune_studies",
    "tuned_epochs",
    "tuned_names",
]


_TRAINING = {
    "StudyResult": "studies.tuning.study",
    "prepare_studies": "studies.tuning.study",
    "tune_study": "studies.tuning.study",
    "TuningSummary": "studies.tuning.workers",
    "tune_studies": "studies.tuning.workers",
}


def __getattr__(name: str):
    if name in _TRAINING:
        from importlib import import_module

        return getattr(import_module(_TRAINING[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
