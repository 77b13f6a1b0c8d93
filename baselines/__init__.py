"""Reference models the Landau variants are compared with.

``BASELINES`` (the registry entries) imports neither torch nor scikit-learn; the models are
imported on first use (PEP 562), so that listing the registry stays fast.
"""

from baselines.entries import BASELINES

__all__ = ["BASELINES", "PlainMLP", "fit_logreg"]


def __getattr__(name: str):
    if name == "PlainMLP":
        from baselines.mlp import PlainMLP

        return PlainMLP
    if name == "fit_logreg":
        from baselines.logreg import fit_logreg

        return fit_logreg
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
