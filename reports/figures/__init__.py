"""Figures: each function saves one PNG and returns a FigureResult (the path, or the reason the
figure could not be drawn from the data given)."""

from reports.figures._base import FigureResult
from reports.figures.accuracy import accuracy_figure, accuracy_groups, cost_accuracy_figure
from reports.figures.boundaries import decision_boundary_figure
from reports.figures.forest import forest_cells_figure, forest_figure
from reports.figures.landscape import sharpness_figure, sweep_figure, swept_params
from reports.figures.statistics import cd_diagram_figure
from reports.figures.training import beta_figure, learning_curves_figure, loss_terms_figure
from reports.figures.tuning import (
    best_so_far_figure,
    importances_figure,
    tuning_groups,
    tuning_history_figure,
)

__all__ = [
    "FigureResult",
    "accuracy_figure",
    "accuracy_groups",
    "best_so_far_figure",
    "beta_figure",
    "cd_diagram_figure",
    "cost_accuracy_figure",
    "decision_boundary_figure",
    "forest_cells_figure",
    "forest_figure",
    "importances_figure",
    "learning_curves_figure",
    "loss_terms_figure",
    "sharpness_figure",
    "swept_params",
    "sweep_figure",
    "tuning_groups",
    "tuning_history_figure",
]
