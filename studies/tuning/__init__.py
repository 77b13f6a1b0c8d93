"""Tuning with Optuna on equal budgets: one study per (variant, dataset, depth)."""

from studies.tuning.storage import open_storage, storage_url
from studies.tuning.study import (
    StudyKey,
    StudyResult,
    best_params_for_grid,
    fixed_params,
    grid_keys,
    prepare_studies,
    study_name,
    tune_study,
    tuned_epochs,
    tuned_names,
)
from studies.tuning.workers import TuningSummary, tune_studies

__all__ = [
    "StudyKey",
    "StudyResult",
    "TuningSummary",
    "best_params_for_grid",
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
