"""Results in, tables and figures out.

Works on DataFrames and column names only (docs/data-model.md): it imports neither torch nor the
project's other packages, so stored results can be re-plotted on a machine without torch.

The names below are imported on first use (PEP 562): the store imports ``reports.data`` for
its status names, and a command with nothing to plot should not pay for seaborn and SciPy.
"""

from importlib import import_module

# public name -> the module that defines it
_WHERE = {
    "FigureResult": "reports.figures",
    "Ranking": "reports.ranking",
    "ReportData": "reports.data",
    "accuracy_figure": "reports.figures",
    "accuracy_table": "reports.tables",
    "anchors_table": "reports.tables",
    "best_so_far_figure": "reports.figures",
    "beta_figure": "reports.figures",
    "bounded_mean_ci": "reports.intervals",
    "bounded_mean_pvalue": "reports.intervals",
    "build_report": "reports.build",
    "cd_diagram_figure": "reports.figures",
    "cell_contributions": "reports.contributions",
    "claims_table": "reports.claims",
    "component_contributions": "reports.contributions",
    "cost_accuracy_figure": "reports.figures",
    "decision_boundary_figure": "reports.figures",
    "detectable_effect": "reports.stats",
    "failures_table": "reports.tables",
    "forest_cells_figure": "reports.figures",
    "forest_figure": "reports.figures",
    "friedman_nemenyi": "reports.ranking",
    "holm": "reports.stats",
    "importances_figure": "reports.figures",
    "importances_table": "reports.tables",
    "learning_curves_figure": "reports.figures",
    "loss_terms_figure": "reports.figures",
    "paired_runs": "reports.contributions",
    "pareto_front": "reports.stats",
    "pooled_contributions": "reports.contributions",
    "runtime_table": "reports.tables",
    "sign_flip_test": "reports.stats",
    "status_table": "reports.tables",
    "t_interval": "reports.intervals",
    "tuned_params_table": "reports.tables",
    "tuning_cost_table": "reports.tables",
    "tuning_history_figure": "reports.figures",
    "wilcoxon_test": "reports.stats",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
