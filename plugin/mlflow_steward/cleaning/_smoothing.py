"""Noise smoothing of time-ordered numeric columns: moving average and exponential smoothing.

Both smoothers are stateless: ``fit`` only checks the parameters and the columns, ``transform``
smooths the rows it is given, in the order of ``order_by`` (or in row order), and returns them in
their original order. The smoothing is therefore *within the batch* passed to ``transform``: a
batch of one row comes back unchanged. Both are causal (a value depends only on earlier rows).

Missing values: a missing input stays missing in the output and does not take part in the
smoothing of the other rows (the average runs over the observed values of the window, the
exponential recursion carries on from the last observed row). Imputation is left to the imputer,
so reports count the missing values honestly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import (
    PUBLIC_MODULE,
    FrameTransformer,
    as_float,
    check_columns_param,
    check_int,
    check_real,
    numeric_columns,
    require_columns,
    require_numeric,
)
from ._errors import PARAM_ORDER_BY, CleaningParameterError
from ._kernels import Smooth, positions_of


class _Smoother(FrameTransformer):
    """Shared fit/transform; subclasses define ``_check_params`` and ``_smooth(values)``."""

    def fit(self, X, y=None):
        """Check the parameters and resolve the columns to smooth."""
        owner = type(self).__name__
        self._check_params()
        columns = check_columns_param(owner, "columns", self.columns)
        frame, _ = self._frame(X, reset=True)
        if self.order_by is not None:
            require_columns(owner, "order_by", [self.order_by], frame)
        if columns is None:
            columns = [c for c in numeric_columns(frame) if c != self.order_by]
        else:
            require_columns(owner, "columns", columns, frame)
            require_numeric(owner, frame, columns)
            if self.order_by in columns:
                message = PARAM_ORDER_BY.format(owner=owner, column=self.order_by)
                raise CleaningParameterError(message)
        self.columns_ = [str(column) for column in columns]
        return self

    def transform(self, X):
        """Return ``X`` with the smoothed columns replaced (as float64), rows in their order."""
        check_is_fitted(self, "columns_")
        frame, was_frame = self._frame(X, reset=False)
        if self.order_by is None:
            order = np.arange(len(frame))
        else:
            key = frame[self.order_by].reset_index(drop=True)
            order = key.sort_values(kind="stable", na_position="last").index.to_numpy()
        frame = frame.copy()
        for column in self.columns_:
            values = as_float(frame[column])
            smoothed = np.empty_like(values)
            smoothed[order] = self._smooth(values[order])
            frame[column] = pd.Series(smoothed, index=frame.index)
        return self._output(frame, was_frame)

    def _array_kernel(self) -> Smooth:
        """Positions of the smoothed and the time column, and this smoother's own function."""
        check_is_fitted(self, "columns_")
        names = [str(c) for c in self._labels()]
        owner = type(self).__name__
        order = None if self.order_by is None else positions_of(names, [str(self.order_by)], owner)[0]
        return Smooth(positions_of(names, self.columns_, owner), order, self._smooth)


class MovingAverageSmoother(_Smoother):
    """Trailing moving average: ``y_t`` = mean of the observed values among ``x_{t-window+1..t}``.

    The first ``window - 1`` rows average the rows available so far (``y_0 = x_0``). Where
    ``x_t`` is missing, ``y_t`` is missing.

    Parameters
    ----------
    window : int, default=3
        Number of rows averaged (``1`` leaves the values unchanged).
    columns : sequence of column names or None, default=None
        Columns to smooth; ``None`` means every numeric column but ``order_by``.
    order_by : column name or None, default=None
        Column giving the time order (ties keep row order; missing times go last); ``None``
        means the rows are already in time order.

    Attributes
    ----------
    columns_ : list of str
    n_features_in_, feature_names_in_
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, window=3, columns=None, order_by=None):
        self.window = window
        self.columns = columns
        self.order_by = order_by

    def _check_params(self):
        check_int(type(self).__name__, "window", self.window, low=1)

    def _smooth(self, values: np.ndarray) -> np.ndarray:
        smoothed = pd.Series(values).rolling(self.window, min_periods=1).mean().to_numpy(copy=True)
        smoothed[np.isnan(values)] = np.nan
        return smoothed


class ExponentialSmoother(_Smoother):
    """Exponential smoothing: ``y_0 = x_0`` and ``y_t = alpha * x_t + (1 - alpha) * y_{t-1}``.

    Exactly that recursion (``pandas`` ``ewm(alpha=alpha, adjust=False)``), started at the first
    observed value. Where ``x_t`` is missing, ``y_t`` is missing and the next observed row
    continues from the last observed ``y``. Example: ``[1, 3, 5]`` with ``alpha=0.5`` gives
    ``[1, 2, 3.5]``.

    Parameters
    ----------
    alpha : float in (0, 1], default=0.3
        Weight of the current value (``1`` leaves the values unchanged).
    columns : sequence of column names or None, default=None
        Columns to smooth; ``None`` means every numeric column but ``order_by``.
    order_by : column name or None, default=None
        Column giving the time order (ties keep row order; missing times go last); ``None``
        means the rows are already in time order.

    Attributes
    ----------
    columns_ : list of str
    n_features_in_, feature_names_in_
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, alpha=0.3, columns=None, order_by=None):
        self.alpha = alpha
        self.columns = columns
        self.order_by = order_by

    def _check_params(self):
        check_real(type(self).__name__, "alpha", self.alpha, low=0.0, high=1.0, low_open=True)

    def _smooth(self, values: np.ndarray) -> np.ndarray:
        alpha = float(self.alpha)
        smoothed = np.full(values.shape, np.nan)
        previous = None
        for t, value in enumerate(values.tolist()):
            if value != value:  # NaN: stays missing, the recursion skips it
                continue
            previous = value if previous is None else alpha * value + (1.0 - alpha) * previous
            smoothed[t] = previous
        return smoothed
