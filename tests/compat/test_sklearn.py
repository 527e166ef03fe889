"""Every scikit-learn internal ``mlflow_steward.cleaning._compat`` wraps still exists and still works."""

from __future__ import annotations

import importlib

import numpy as np
import sklearn
from sklearn.preprocessing import StandardScaler

from mlflow_steward.cleaning import _compat as compat


def test_every_private_symbol_is_still_there():
    for module, attribute in compat.PRIVATE_API:
        assert hasattr(importlib.import_module(module), attribute), (
            f"scikit-learn {sklearn.__version__} removed {module}.{attribute}; "
            "update mlflow_steward/cleaning/_compat.py"
        )


def test_check_feature_names_in_still_behaves():
    scaler = StandardScaler().fit(np.zeros((3, 2)))
    assert list(compat._check_feature_names_in(scaler, None)) == ["x0", "x1"]
    assert list(compat._check_feature_names_in(scaler, ["a", "b"])) == ["a", "b"]


def test_validate_data_is_the_public_one():
    from sklearn.utils.validation import validate_data

    assert compat.validate_data is validate_data


def test_fitted_state_the_kernels_read_is_still_there():
    """The array kernels read a few private attributes of fitted objects (``PRIVATE_FITTED_ATTRIBUTES``)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": ["x", "y", "x"]})
    fitted = {
        "sklearn.compose.ColumnTransformer": ColumnTransformer(
            [("num", SimpleImputer(), ["a"]), ("cat", OneHotEncoder(), ["b"])]
        ).fit(frame),
        "sklearn.preprocessing.OneHotEncoder": OneHotEncoder().fit(frame[["b"]]),
        "sklearn.impute.SimpleImputer": SimpleImputer().fit(frame[["a"]]),
        "pandas.DataFrame": frame,
    }
    assert {cls for cls, _ in compat.PRIVATE_FITTED_ATTRIBUTES} == set(fitted)
    for cls, attribute in compat.PRIVATE_FITTED_ATTRIBUTES:
        assert hasattr(fitted[cls], attribute), (
            f"scikit-learn {sklearn.__version__} / pandas {pd.__version__}: {cls} has no {attribute} any "
            "more; update mlflow_steward/cleaning/_compat.py (the array kernels read it)"
        )
    assert compat.column_transformer_input_indices(fitted["sklearn.compose.ColumnTransformer"])["num"] == [0]
    assert list(compat.frame_column(frame, 1)) == ["x", "y", "x"]
