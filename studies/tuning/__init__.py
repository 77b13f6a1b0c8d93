"""Tuning with Optuna on equal budgets: one study per (variant, dataset, depth).

``open_storage(store)`` returns the Optuna storage of a results store (a SQLite file or any
SQLAlchemy URL), usable with Optuna's own API: ``optuna.load_study(study_name=...,
storage=open_storage("landau-results/results.db"))``. ``export_studies`` writes the studies into
a SQLite file Optuna's tools open by URL; ``snapshot`` copies them into memory.
"""

from studies.tuning.best import best_params_for_grid, tuned_epochs
from studies.tuning.keys import StudyKey, fixed_params, grid_keys, study_name, tuned_names
from studies.tuning.snapshot import copy_studies, export_studies, snapshot
from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import StudyResult, prepare_studies, tune_study
from studies.tuning.workers import TuningSummary, tune_studies

__all__ = [
    "StudyKey",
    "StudyResult",
    "TuningSummary",
    "best_params_for_grid",
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
