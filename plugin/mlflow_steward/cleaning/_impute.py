"""``TypedImputer``: one imputation strategy for numeric columns, another for categorical ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import (
    PUBLIC_MODULE,
    FrameTransformer,
    as_float,
    check_columns_param,
    check_real,
    check_option,
    is_numeric,
    require_columns,
    require_numeric,
)
from ._kernels import FillMissing, positions_of
from ._errors import COLUMN_ALL_MISSING, PARAM_OVERLAP, CleaningColumnError, CleaningParameterError

NUMERIC_STRATEGIES = ("median", "mean", "most_frequent", "constant")
CATEGORICAL_STRATEGIES = ("most_frequent", "constant")


class TypedImputer(FrameTransformer):
    """Fill missing values per column type, learning the fill values at fit.

    Column types come from ``numeric_columns`` / ``categorical_columns`` when given; a list
    left at ``None`` means "every other column" if the other list is given, and otherwise the
    types are read from the dtypes at fit (numbers are numeric; strings, categories, booleans
    and objects are categorical). Columns in neither list pass through untouched.

    ``most_frequent`` breaks ties by the smallest value (as ``SimpleImputer`` does) and ignores
    missing values. A ``category`` column imputed with a constant that is not one of its
    categories gains it as a new category. Fitting fails, naming the column, when a column has
    no observed value and its strategy needs one.

    Parameters
    ----------
    numeric_strategy : {"median", "mean", "most_frequent", "constant"}, default="median"
    categorical_strategy : {"most_frequent", "constant"}, default="most_frequent"
    numeric_fill_value : float, default=0.0
        Used by ``numeric_strategy="constant"``.
    categorical_fill_value : str, default="missing"
        Used by ``categorical_strategy="constant"``.
    numeric_columns, categorical_columns : sequence of column names or None, default=None

    Attributes
    ----------
    numeric_columns_, categorical_columns_ : list of str
        The columns imputed as numeric and as categorical.
    statistics_ : dict of str to value
        The fill value of every imputed column.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    __module__ = PUBLIC_MODULE

    def __init__(
        self,
        *,
        numeric_strategy="median",
        categorical_strategy="most_frequent",
        numeric_fill_value=0.0,
        categorical_fill_value="missing",
        numeric_columns=None,
        categorical_columns=None,
    ):
        self.numeric_strategy = numeric_strategy
        self.categorical_strategy = categorical_strategy
        self.numeric_fill_value = numeric_fill_value
        self.categorical_fill_value = categorical_fill_value
        self.numeric_columns = numeric_columns
        self.categorical_columns = categorical_columns

    def fit(self, X, y=None):
        """Resolve the column types and learn one fill value per column."""
        owner = type(self).__name__
        check_option(owner, "numeric_strategy", self.numeric_strategy, NUMERIC_STRATEGIES)
        check_option(
            owner, "categorical_strategy", self.categorical_strategy, CATEGORICAL_STRATEGIES
        )
        numeric = check_columns_param(owner, "numeric_columns", self.numeric_columns)
        categorical = check_columns_param(owner, "categorical_columns", self.categorical_columns)
        frame, _ = self._frame(X, reset=True)
        numeric, categorical = self._resolve(frame, numeric, categorical)
        self.numeric_columns_ = [str(c) for c in numeric]
        self.categorical_columns_ = [str(c) for c in categorical]
        statistics = {}
        for column in numeric:
            statistics[str(column)] = self._numeric_statistic(frame[column], column)
        for column in categorical:
            statistics[str(column)] = self._categorical_statistic(frame[column], column)
        self.statistics_ = statistics
        return self

    def transform(self, X):
        """Return ``X`` with the missing values of the imputed columns filled."""
        check_is_fitted(self, "statistics_")
        frame, was_frame = self._frame(X, reset=False)
        frame = frame.copy()
        numeric = set(self.numeric_columns_)
        for column, value in self.statistics_.items():
            series = frame[column]
            if not series.isna().any():
                continue
            extension = isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
            if column in numeric and extension and is_numeric(series):
                # nullable integers cannot take a fractional median: impute in float64
                series = pd.Series(as_float(series), index=series.index, name=series.name)
            if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
                series = series.cat.add_categories([value])
            frame[column] = series.fillna(value)
        return self._output(frame, was_frame)

    def _array_kernel(self) -> FillMissing:
        """The fill values by column position, as an array kernel."""
        check_is_fitted(self, "statistics_")
        columns = list(self.statistics_)
        positions = positions_of([str(c) for c in self._labels()], columns, type(self).__name__)
        return FillMissing(tuple(zip(positions, (self.statistics_[c] for c in columns))))

    def _resolve(self, frame, numeric, categorical):
        owner = type(self).__name__
        for param, columns in (("numeric_columns", numeric), ("categorical_columns", categorical)):
            if columns is not None:
                require_columns(owner, param, columns, frame)
        if numeric is None and categorical is None:
            numeric = [c for c in frame.columns if is_numeric(frame[c])]
            categorical = [c for c in frame.columns if c not in numeric]
        elif numeric is None:
            numeric = [c for c in frame.columns if c not in categorical]
        elif categorical is None:
            categorical = [c for c in frame.columns if c not in numeric]
        for column in numeric:
            if column in categorical:
                raise CleaningParameterError(PARAM_OVERLAP.format(owner=owner, column=column))
        if self.numeric_strategy != "most_frequent":
            require_numeric(owner, frame, numeric, hint=" (or list it in 'categorical_columns')")
        return numeric, categorical

    def _numeric_statistic(self, series: pd.Series, column) -> float:
        strategy = self.numeric_strategy
        if strategy == "constant":
            return check_real(type(self).__name__, "numeric_fill_value", self.numeric_fill_value)
        if strategy == "most_frequent":
            return _most_frequent(series, column, type(self).__name__)
        values = as_float(series)
        values = values[~np.isnan(values)]
        if values.size == 0:
            raise CleaningColumnError(
                COLUMN_ALL_MISSING.format(
                    owner=type(self).__name__, column=str(column), strategy=strategy
                )
            )
        return float(np.median(values) if strategy == "median" else np.mean(values))

    def _categorical_statistic(self, series: pd.Series, column):
        if self.categorical_strategy == "constant":
            return self.categorical_fill_value
        return _most_frequent(series, column, type(self).__name__)


def _most_frequent(series: pd.Series, column, owner: str):
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0]  # a category column lists unused categories with count 0
    if counts.empty:
        raise CleaningColumnError(
            COLUMN_ALL_MISSING.format(owner=owner, column=str(column), strategy="most_frequent")
        )
    tied = counts.index[counts.to_numpy() == counts.max()].tolist()
    try:
        value = min(tied)
    except TypeError:  # values of several types: order by type name, then text
        value = min(tied, key=lambda v: (type(v).__name__, str(v)))
    return value.item() if isinstance(value, np.generic) else value
