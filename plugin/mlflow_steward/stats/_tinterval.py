"""Student-t intervals: the mean of per-row values, and the textbook RMSE interval."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit

from ._interval import Interval
from ._validation import (
    MIN_ROWS,
    as_float_array,
    check_confidence,
    check_min_rows,
    check_same_length,
)


def _t_bounds(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    n = x.shape[0]
    mean = float(x.mean())
    # stdtrit is scipy.stats.t.ppf without importing scipy.stats (slow to import)
    half = float(stdtrit(n - 1, 0.5 + confidence / 2.0)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def t_interval(values: object, *, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean of per-row values (e.g. per-row losses).

    ``mean +- t_{(1+confidence)/2, n-1} * s / sqrt(n)`` with the sample standard deviation ``s``.
    """
    confidence = check_confidence(confidence)
    x = as_float_array(values, "values")
    check_min_rows(x.shape[0], "values", MIN_ROWS)
    mean, low, high = _t_bounds(x, confidence)
    return Interval(mean, low, high, confidence, "t")


def rmse_t_interval(y_true: object, y_pred: object, *, confidence: float = 0.95) -> Interval:
    """The textbook RMSE interval: square roots of the t-interval of the squared errors.

    The low end of the MSE interval is clipped at 0 before the square root; the estimate is the
    RMSE itself. Fine for large test sets; for skewed errors prefer ``bootstrap_interval``.
    """
    confidence = check_confidence(confidence)
    yt = as_float_array(y_true, "y_true")
    yp = as_float_array(y_pred, "y_pred")
    check_same_length(yp, "y_pred", yt.shape[0])
    check_min_rows(yt.shape[0], "y_true", MIN_ROWS)
    mse, low, high = _t_bounds((yt - yp) ** 2, confidence)
    return Interval(math.sqrt(mse), math.sqrt(max(low, 0.0)), math.sqrt(high), confidence, "t-sqrt")
