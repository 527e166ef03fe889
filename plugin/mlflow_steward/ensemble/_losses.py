"""The losses the combiners minimise on out-of-fold predictions (numpy only).

Predictions are stacked per member: ``(n_members, n_rows)`` for regression, ``(n_members, n_rows,
n_classes)`` of probabilities for classification, with ``y`` as class indices ``0..k-1`` there.
Regression minimises the mean squared error, classification the log loss (a proper scoring rule:
averaging probabilities to lower it also keeps them calibrated).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SQUARED_ERROR = "squared_error"
LOG_LOSS = "log_loss"
LOSSES = (SQUARED_ERROR, LOG_LOSS)
_EPS = 1e-15

MSG_UNKNOWN_LOSS = "loss must be one of {valid}, got {loss!r}"


def squared_error(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean squared error of a regression prediction ``(n_rows,)``."""
    return float(np.mean((np.asarray(y, dtype=float) - pred) ** 2))


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log probability of the true class (``y``: class indices; ``proba``: ``(n, k)``)."""
    picked = proba[np.arange(len(y)), np.asarray(y, dtype=np.int64)]
    return float(-np.mean(np.log(np.clip(picked, _EPS, 1.0))))


def get_loss(loss: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The loss function named ``loss``."""
    if loss == SQUARED_ERROR:
        return squared_error
    if loss == LOG_LOSS:
        return log_loss
    raise ValueError(MSG_UNKNOWN_LOSS.format(valid=", ".join(LOSSES), loss=loss))


def combine(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted sum over the member axis: ``(m, n[, k])`` and ``(m,)`` -> ``(n[, k])``."""
    return np.tensordot(np.asarray(weights, dtype=float), predictions, axes=(0, 0))
