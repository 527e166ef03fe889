"""``OutlierClipper``: bounds learnt at fit (IQR rule or quantiles), values clipped at transform."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import (
    PUBLIC_MODULE,
    FrameTransformer,
    as_float,
    check_columns_param,
    check_option,
    check_quantiles,
    check_real,
    numeric_columns,
    require_columns,
    require_numeric,
)
from ._kernels import Clip, positions_of

METHODS = ("iqr", "quantile")


class OutlierClipper(FrameTransformer):
    """Clip numeric columns to bounds learnt on the training data.

    ``method="iqr"``: with ``q1``, ``q3`` the 25th and 75th percentiles (linear interpolation,
    as ``numpy.percentile`` and ``pandas.Series.quantile``), the bounds are
    ``q1 - factor * (q3 - q1)`` and ``q3 + factor * (q3 - q1)``. A column whose IQR is 0 (more than
    half its values equal) would be crushed to a constant by that rule, so it is left unclipped
    (bounds -inf, +inf). ``method="quantile"``: the bounds are the ``quantiles`` of the column.

    Missing values are ignored when learning the bounds and stay missing; a column with no
    observed value gets the bounds -inf, +inf. Clipped columns come out as float64; other
    columns pass through untouched.

    Parameters
    ----------
    method : {"iqr", "quantile"}, default="iqr"
    factor : float, default=1.5
        The IQR multiplier (``method="iqr"``).
    quantiles : (float, float), default=(0.01, 0.99)
        Lower and upper quantile (``method="quantile"``).
    columns : sequence of column names or None, default=None
        Columns to clip; ``None`` means every numeric (non-boolean) column.

    Attributes
    ----------
    columns_ : list of str
    lower_, upper_ : dict of str to float
        The bounds of each clipped column.
    n_clipped_ : dict of str to int
        Training values outside the bounds, per column (what ``count_clipped`` returns on the
        training data).
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, method="iqr", factor=1.5, quantiles=(0.01, 0.99), columns=None):
        self.method = method
        self.factor = factor
        self.quantiles = quantiles
        self.columns = columns

    def fit(self, X, y=None):
        """Learn the bounds of every clipped column and count the training values outside."""
        owner = type(self).__name__
        check_option(owner, "method", self.method, METHODS)
        if self.method == "iqr":
            factor = check_real(owner, "factor", self.factor, low=0.0)
        else:
            low_q, high_q = check_quantiles(owner, "quantiles", self.quantiles)
        columns = check_columns_param(owner, "columns", self.columns)
        frame, _ = self._frame(X, reset=True)
        if columns is None:
            columns = numeric_columns(frame)
        else:
            require_columns(owner, "columns", columns, frame)
            require_numeric(owner, frame, columns)
        self.columns_ = [str(column) for column in columns]
        self.lower_, self.upper_ = {}, {}
        for column in self.columns_:
            values = as_float(frame[column])
            values = values[~np.isnan(values)]
            low, high = -np.inf, np.inf
            if values.size and self.method == "iqr":
                q1, q3 = np.percentile(values, [25.0, 75.0])
                if q3 > q1:
                    low, high = q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
            elif values.size:
                low, high = np.quantile(values, [low_q, high_q])
            self.lower_[column], self.upper_[column] = float(low), float(high)
        self.n_clipped_ = self._count(frame)
        return self

    def transform(self, X):
        """Return ``X`` with the clipped columns limited to their bounds (as float64)."""
        check_is_fitted(self, "n_clipped_")
        frame, was_frame = self._frame(X, reset=False)
        frame = frame.copy()
        for column in self.columns_:
            values = np.clip(as_float(frame[column]), self.lower_[column], self.upper_[column])
            frame[column] = pd.Series(values, index=frame.index)
        return self._output(frame, was_frame)

    def _array_kernel(self) -> Clip:
        """The bounds by column position, as an array kernel."""
        check_is_fitted(self, "n_clipped_")
        positions = positions_of([str(c) for c in self._labels()], self.columns_, type(self).__name__)
        bounds = zip(positions, (self.lower_[c] for c in self.columns_), (self.upper_[c] for c in self.columns_))
        return Clip(tuple(bounds))

    def count_clipped(self, X) -> dict[str, int]:
        """How many values of ``X`` each column's bounds would clip (missing values not counted)."""
        check_is_fitted(self, "n_clipped_")
        frame, _ = self._frame(X, reset=False)
        return self._count(frame)

    def _count(self, frame: pd.DataFrame) -> dict[str, int]:
        counts = {}
        for column in self.columns_:
            values = as_float(frame[column])
            outside = (values < self.lower_[column]) | (values > self.upper_[column])
            counts[column] = int(outside.sum())
        return counts
