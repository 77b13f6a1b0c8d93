"""Tables: pure functions DataFrame -> DataFrame. The descriptive ones (run status, accuracy
with intervals, runtime, tuning cost, anchors, tuned hyperparameters) in descriptive.py; whether
tuning converged (best so far, trial by trial) in convergence.py."""

from reports.tables.convergence import best_so_far, convergence_table
from reports.tables.descriptive import (
    ACCURACY_COLUMNS,
    FEW_TRIALS,
    KEYS,
    LIST_RUNS_BELOW,
    RUNTIME_COLUMNS,
    accuracy_table,
    anchors_table,
    failures_table,
    format_runs,
    importances_table,
    runtime_table,
    status_table,
    tuned_params_table,
    tuning_cost_table,
)

__all__ = [
    "ACCURACY_COLUMNS",
    "FEW_TRIALS",
    "KEYS",
    "LIST_RUNS_BELOW",
    "RUNTIME_COLUMNS",
    "accuracy_table",
    "anchors_table",
    "best_so_far",
    "convergence_table",
    "failures_table",
    "format_runs",
    "importances_table",
    "runtime_table",
    "status_table",
    "tuned_params_table",
    "tuning_cost_table",
]
