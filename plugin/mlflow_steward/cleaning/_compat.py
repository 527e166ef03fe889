"""The only place ``cleaning`` touches scikit-learn internals (kept small on purpose)."""

from __future__ import annotations

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


__all__ = ["_check_feature_names_in", "validate_data"]
