"""Tuning with Optuna on equal budgets: one study per (variant, dataset, depth)."""

from studies.tuning.best import best_params_for_grid, tuned_epochs
from studies.tuning.keys import StudyKey, fixed_params, grid_keys, study_name, tuned_names
from studies.tuning.storage import close_storage, open_storage, storage_url
from studies.tuning.study import StudyResult, prepare_studies, tune_study
from studies.tuning.workers import TuningSummary, tune_studies

__all__ = [
    "StudyKey",
    "StudyResult",
    "TuningSummary",
    "best_params_for_grid",
    "close_storage",
    "fixed_params",
    "grid_keys",
    "open_storage",
    "prepare_studies",
    "storage_url",
    "study_name",
    "tune_study",
    "tune_studies",
    "tuned_epochs",
    "tuned_names",
]
