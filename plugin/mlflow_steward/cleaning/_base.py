"""What every cleaning transformer shares: input checks, parameter checks, column lookup.

The transformers work on a pandas ``DataFrame`` internally, whatever they are given: a frame keeps
its columns (names, dtypes, ``StringDtype`` and all) and its index; an array goes through
scikit-learn's ``check_array`` and becomes a frame whose columns are named like
``get_feature_names_out`` names them (``x0``, ``x1``, ...). The result goes back in the caller's
type: DataFrame in, DataFrame out; array in, array out (and ``set_output`` works as usual).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._compat import _check_feature_names_in, validate_data
from ._errors import (
    COLUMN_MISSING,
    COLUMN_NOT_NUMERIC,
    EMPTY_INPUT,
    PARAM_COLUMNS,
    PARAM_INT,
    PARAM_OPTION,
    PARAM_QUANTILES,
    PARAM_NUMBER,
    PARAM_STRINGS,
    CleaningColumnError,
    CleaningError,
    CleaningParameterError,
)

#: Every public class says it lives in the public package: pickles and skops files name
#: ``mlflow_steward.cleaning.<Class>``, so they keep loading if the private modules move.
PUBLIC_MODULE = "mlflow_steward.cleaning"


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Base of the column-wise transformers: NaN and string columns allowed, names out = in."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True  # string columns pass through (or are the point)
        return tags

    def _frame(self, X, *, reset: bool) -> tuple[pd.DataFrame, bool]:
        """Check ``X`` (and record or compare its features); return it as a frame + was-a-frame."""
        owner = type(self).__name__
        if isinstance(X, pd.DataFrame):
            if 0 in X.shape:
                raise CleaningError(
                    EMPTY_INPUT.format(
                        n_samples=X.shape[0], n_features=X.shape[1], shape=X.shape, owner=owner
                    )
                )
            validate_data(self, X, skip_check_array=True, reset=reset)
            return X.set_axis(self._labels(), axis=1), True
        array = validate_data(self, X, dtype=None, ensure_all_finite="allow-nan", reset=reset)
        return pd.DataFrame(array, columns=self._labels()), False

    def _labels(self) -> list:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return list(names)
        return [f"x{i}" for i in range(self.n_features_in_)]

    @staticmethod
    def _output(frame: pd.DataFrame, was_frame: bool):
        return frame if was_frame else frame.to_numpy()

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the input names, unchanged."""
        check_is_fitted(self, "n_features_in_")
        return np.asarray(_check_feature_names_in(self, input_features), dtype=object)


# --- parameter checks (at fit, never in __init__) ------------------------------------------------
def check_option(owner: str, param: str, value, options: Sequence) -> None:
    if not isinstance(value, (str, type(None))) or value not in options:
        raise CleaningParameterError(
            PARAM_OPTION.format(owner=owner, param=param, options=list(options), value=value)
        )


def _bounds_text(low, high, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return " and ".join(parts)


def check_real(owner, param, value, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real number within the bounds; returns it as ``float``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bounds = _bounds_text(low, high, low_open, high_open)
        raise CleaningParameterError(
            PARAM_NUMBER.format(owner=owner, param=param, bounds=bounds, value=value)
        )
    return float(value)


def check_int(owner: str, param: str, value, *, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise CleaningParameterError(
            PARAM_INT.format(owner=owner, param=param, bounds=f">= {low}", value=value)
        )
    return int(value)


def check_quantiles(owner: str, param: str, value) -> tuple[float, float]:
    try:
        low, high = value
        ok = all(isinstance(q, numbers.Real) and not isinstance(q, bool) for q in (low, high))
        ok = ok and 0.0 <= low < high <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise CleaningParameterError(PARAM_QUANTILES.format(owner=owner, param=param, value=value))
    return float(low), float(high)


def check_strings(owner: str, param: str, value) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise CleaningParameterError(PARAM_STRINGS.format(owner=owner, param=param, value=value))
    if not all(isinstance(item, str) for item in value):
        raise CleaningParameterError(PARAM_STRINGS.format(owner=owner, param=param, value=value))
    return tuple(value)


def check_columns_param(owner: str, param: str, value) -> list | None:
    """``None`` or a sequence of column names (not a bare string)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, pd.Index)):
        raise CleaningParameterError(PARAM_COLUMNS.format(owner=owner, param=param, value=value))
    return list(value)


# --- columns ------------------------------------------------------------------------------------
def require_columns(owner: str, param: str, columns, frame: pd.DataFrame) -> None:
    available = list(frame.columns)
    for column in columns:
        if column not in available:
            raise CleaningColumnError(
                COLUMN_MISSING.format(
                    owner=owner, column=column, param=param, available=available
                )
            )


def is_numeric(series: pd.Series) -> bool:
    """Numbers, not booleans (booleans are categories)."""
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def require_numeric(owner: str, frame: pd.DataFrame, columns, hint: str = "") -> None:
    for column in columns:
        if not is_numeric(frame[column]):
            raise CleaningColumnError(
                COLUMN_NOT_NUMERIC.format(
                    owner=owner, column=column, dtype=frame[column].dtype, hint=hint
                )
            )


def numeric_columns(frame: pd.DataFrame) -> list:
    return [column for column in frame.columns if is_numeric(frame[column])]


def as_float(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 values, pandas' missing values as NaN."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)
