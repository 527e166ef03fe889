"""The only place mlflow-steward touches scikit-learn (and pandas) internals (kept small on purpose).

``cleaning`` travels inside every model and imports nothing of ours outside itself, so the
scikit-learn compat module lives here rather than in ``mlflow_steward._compat`` (nothing else in
the package uses scikit-learn internals). ``tests/compat/test_sklearn.py`` resolves every entry of
:data:`PRIVATE_API` and checks the fitted-state attributes the array kernels read
(:data:`PRIVATE_FITTED_ATTRIBUTES`), failing with the scikit-learn version when an upgrade removes one.
"""

from __future__ import annotations

import numpy as np

# private, but stable since scikit-learn 1.0: the feature names out of a transformer (input names
# or ``x0..``), checked against ``feature_names_in_``
from sklearn.utils.validation import _check_feature_names_in  # noqa: F401

# public since scikit-learn 1.6 (the oldest release we support; see pyproject.toml)
from sklearn.utils.validation import validate_data

#: (module, attribute) pairs: private scikit-learn API used by ``cleaning``.
PRIVATE_API: tuple[tuple[str, str], ...] = (("sklearn.utils.validation", "_check_feature_names_in"),)


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


#: (class, attribute) pairs: private fitted state of scikit-learn/pandas objects the kernels read
#: (each accessor above falls back or fails loudly; tests/compat checks they still exist).
PRIVATE_FITTED_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("sklearn.compose.ColumnTransformer", "_transformer_to_input_indices"),
    ("sklearn.preprocessing.OneHotEncoder", "_infrequent_enabled"),
    ("sklearn.impute.SimpleImputer", "_fill_dtype"),
    ("pandas.DataFrame", "_get_column_array"),
)

__all__ = [
    "PRIVATE_API",
    "PRIVATE_FITTED_ATTRIBUTES",
    "_check_feature_names_in",
    "column_transformer_input_indices",
    "frame_column",
    "one_hot_infrequent_enabled",
    "simple_imputer_fill_dtype",
    "validate_data",
]
