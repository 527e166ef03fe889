"""Convex combination weights fitted on out-of-fold predictions (numpy + scipy).

The weights are non-negative and sum to one, and minimise the loss of the weighted prediction on
the out-of-fold rows (``squared_error`` for regression, ``log_loss`` of the mixed probabilities for
classification): SLSQP over the simplex from equal weights, with the analytic gradient. The
squared-error problem is a convex quadratic programme and the log loss of a mixture is convex in
the weights, so the solver finds the global minimum (regression targets are standardised first: SLSQP's tolerances
are absolute, and on house prices it would stop where it started). Weights below ``1e-6`` are set to zero and the
rest renormalised, so members that do not help drop out.

This module travels inside logged models: it imports numpy and scipy only.
"""

from __future__ import annotations

import numpy as np

from ._greedy import check_predictions
from ._losses import LOG_LOSS, SQUARED_ERROR, get_loss

_ZERO = 1e-6
_EPS = 1e-15


def _objective(preds: np.ndarray, y: np.ndarray, loss: str):
    n = preds.shape[1]
    if loss == SQUARED_ERROR:
        target = np.asarray(y, dtype=float)

        def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
            residual = np.tensordot(w, preds, axes=(0, 0)) - target
            return float(np.mean(residual**2)), 2.0 * preds @ residual / n

        return fun
    # log loss: only the probability of the true class matters, p_i(w) = sum_j w_j P[j, i, y_i]
    picked = preds[:, np.arange(n), np.asarray(y, dtype=np.int64)]  # (m, n)

    def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.clip(w @ picked, _EPS, None)
        return float(-np.mean(np.log(p))), -(picked / p).sum(axis=1) / n

    return fun


def simplex_weights(predictions: object, y: object, *, loss: str = SQUARED_ERROR) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise ``loss`` of the weighted predictions.

    ``predictions``: ``(n_members, n_rows)`` or ``(n_members, n_rows, n_classes)``; ``y``:
    targets or class indices. Returns an array of ``n_members`` weights.
    """
    from scipy.optimize import minimize

    get_loss(loss)  # validates the name
    target = np.asarray(y)
    preds = check_predictions(predictions, target)
    if loss == LOG_LOSS and preds.ndim != 3:
        raise ValueError(f"loss {LOG_LOSS!r} needs probabilities of shape (n_members, n_rows, n_classes)")
    m = preds.shape[0]
    if m == 1:
        return np.ones(1)
    if loss == SQUARED_ERROR:
        # the minimiser does not depend on the target's unit, but SLSQP's tolerances do: on house
        # prices (squared errors ~1e9) it stops at its start. Standardise first.
        centre = float(np.mean(target))
        scale = float(np.std(target)) or 1.0
        preds, target = (preds - centre) / scale, (np.asarray(target, dtype=float) - centre) / scale
    fun = _objective(preds, target, loss)
    start = np.full(m, 1.0 / m)
    result = minimize(
        fun,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * m,
        constraints=({"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)},),
        options={"ftol": 1e-12, "maxiter": 500},
    )
    weights = np.clip(np.asarray(result.x, dtype=float), 0.0, None)
    if fun(weights)[0] > fun(start)[0]:  # never worse than the plain mean
        weights = start
    weights[weights < _ZERO] = 0.0
    return weights / weights.sum()
