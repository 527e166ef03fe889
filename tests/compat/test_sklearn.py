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
