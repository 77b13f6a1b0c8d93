"""Multinomial logistic regression (scikit-learn): the anchor for a one-layer network."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


def fit_logreg(x_train: np.ndarray, y_train: np.ndarray, *, C: float, max_iter: int, seed: int):
    """Fit LogisticRegression(C, lbfgs) and return the fitted estimator."""
    if not C > 0:
        raise ValueError(f"`C > 0` must hold, but got C={C!r}")
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a budget, not an error
        return model.fit(x_train, y_train)
