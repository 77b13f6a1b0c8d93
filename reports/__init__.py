"""Results in, tables and figures out.

Works on DataFrames and column names only (docs/data-model.md): it imports neither torch nor the
project's other packages, so stored results can be re-plotted on a machine without torch.
"""

from reports.build import build_report
from reports.claims import claims_table
from reports.contributions import (
    cell_contributions,
    component_contributions,
    paired_runs,
    pooled_contributions,
)
from reports.data import ReportData
from reports.figures import (
    FigureResult,
    accuracy_figure,
    best_so_far_figure,
    beta_figure,
    cd_diagram_figure,
    cost_accuracy_figure,
    decision_boundary_figure,
    forest_cells_figure,
    forest_figure,
    importances_figure,
    learning_curves_figure,
    loss_terms_figure,
    tuning_history_figure,
)
from reports.intervals import bounded_mean_ci, bounded_mean_pvalue, t_interval
from reports.ranking import Ranking, friedman_nemenyi
from reports.stats import detectable_effect, holm, pareto_front, sign_flip_test, wilcoxon_test
from reports.tables import (
    accuracy_table,
    anchors_table,
    failures_table,
    importances_table,
    runtime_table,
    status_table,
    tuned_params_table,
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
    "bounded_mean_ci",
    "bounded_mean_pvalue",
    "build_report",
    "cd_diagram_figure",
    "cell_contributions",
    "claims_table",
    "component_contributions",
    "cost_accuracy_figure",
    "decision_boundary_figure",
    "detectable_effect",
    "failures_table",
    "forest_cells_figure",
    "forest_figure",
    "friedman_nemenyi",
    "holm",
    "importances_figure",
    "importances_table",
    "learning_curves_figure",
    "loss_terms_figure",
    "paired_runs",
    "pareto_front",
    "pooled_contributions",
    "runtime_table",
    "sign_flip_test",
    "status_table",
    "t_interval",
    "tuned_params_table",
    "tuning_cost_table",
    "tuning_history_figure",
    "wilcoxon_test",
]
