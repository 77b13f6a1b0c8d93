"""Reference models the Landau variants are compared with."""

from baselines.entries import BASELINES
from baselines.logreg import fit_logreg
from baselines.mlp import PlainMLP

__all__ = ["BASELINES", "PlainMLP", "fit_logreg"]
