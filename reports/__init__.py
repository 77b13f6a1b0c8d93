"""Results in, tables and figures out.

Works on DataFrames and column names only (docs/data-model.md): it imports neither torch nor the
project's other packages, so stored results can be re-plotted on a machine without torch.
"""

from reports.build import build_report
from reports.claims import claims_table
from reports.contributions import component_contributions, paired_runs
from reports.data import ReportData
from reports.figures import (
    FigureResult,
    accuracy_figure,
    best_so_far_figure,
    beta_figure,
    cd_diagram_figure,
    cost_accuracy_figure,
    decision_boundary_figure,
    importances_figure,
    learning_curves_figure,
    loss_terms_figure,
    tuning_history_figure,
)
from reports.ranking import Ranking, friedman_nemenyi
from reports.stats import bootstrap_mean_ci, holm, mean_ci, paired_test, pareto_front
from reports.tables import (
    accuracy_table,
    anchors_table,
    failures_table,
    runtime_table,
    status_table,
    tuning_cost_table,
)

__all__ = [
    "FigureResult",
    "Ranking",
    "ReportData",
    "accuracy_figure",
    "accuracy_table",
    "anchors_table",
    "best_so_far_figure",
    "beta_figure",
    "bootstrap_mean_ci",
    "build_report",
    "cd_diagram_figure",
    "claims_table",
    "component_contributions",
    "cost_accuracy_figure",
    "decision_boundary_figure",
    "failures_table",
    "friedman_nemenyi",
    "holm",
    "importances_figure",
    "learning_curves_figure",
    "loss_terms_figure",
    "mean_ci",
    "paired_runs",
    "paired_test",
    "pareto_front",
    "runtime_table",
    "status_table",
    "tuning_cost_table",
    "tuning_history_figure",
]
