"""The only place ``cleaning`` touches scikit-learn (and pandas) internals (kept small on purpose)."""

from __future__ import annotations

import numpy as np

# private, but stable since scikit-learn 1.0
from sklearn.utils.validation import _check_feature_names_in  # noqa: F401

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.5

    def validate_data(estimator, X, *, reset=True, skip_check_array=False, **check_params):
        if skip_check_array:
            estimator._check_feature_names(X, reset=reset)
            estimator._check_n_features(X, reset=reset)
            return X
        return estimator._validate_data(X, reset=reset, **check_params)


# --- fitted state the array kernels read (see _kernel_build) ----------------------------------
def column_transformer_input_indices(transformer) -> dict:
    """``name -> input column positions`` of a fitted ``ColumnTransformer`` (callables resolved)."""
    return dict(transformer._transformer_to_input_indices)


def one_hot_infrequent_enabled(encoder) -> bool:
    """Whether a fitted ``OneHotEncoder`` groups infrequent categories."""
    return bool(getattr(encoder, "_infrequent_enabled", False))


def simple_imputer_fill_dtype(imputer):
    """The dtype ``SimpleImputer.transform`` casts its statistics to (the dtype seen at fit)."""
    return getattr(imputer, "_fill_dtype", None)


# --- pandas ---------------------------------------------------------------------------------
def frame_column(frame, position: int):
    """The values of a frame's column by position (numpy or pandas array), without building a
    Series: ``frame.iloc[:, i]`` costs about 40 us a column, this about 2 us (array kernels)."""
    getter = getattr(frame, "_get_column_array", None)
    if getter is None:  # pragma: no cover - pandas moved it: the public (slower) way
        series = frame.iloc[:, position]
        return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
    return getter(position)


__all__ = [
    "_check_feature_names_in",
    "column_transformer_input_indices",
    "frame_column",
    "one_hot_infrequent_enabled",
    "simple_imputer_fill_dtype",
    "validate_data",
]
