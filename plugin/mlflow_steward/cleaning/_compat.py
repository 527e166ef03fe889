"""The only place mlflow-steward touches scikit-learn internals (kept small on purpose).

``cleaning`` travels inside every model and imports nothing of ours outside itself, so the
scikit-learn compat module lives here rather than in ``mlflow_steward._compat`` (nothing else in
the package uses scikit-learn internals). ``tests/compat/test_sklearn.py`` resolves every entry of
:data:`PRIVATE_API` and fails naming the scikit-learn version when an upgrade removes one.
"""

from __future__ import annotations

# private, but stable since scikit-learn 1.0: the feature names out of a transformer (input names
# or ``x0..``), checked against ``feature_names_in_``
from sklearn.utils.validation import _check_feature_names_in  # noqa: F401

# public since scikit-learn 1.6 (the oldest release we support; see pyproject.toml)
from sklearn.utils.validation import validate_data

#: (module, attribute) pairs: private scikit-learn API used by ``cleaning``.
PRIVATE_API: tuple[tuple[str, str], ...] = (("sklearn.utils.validation", "_check_feature_names_in"),)

__all__ = ["PRIVATE_API", "_check_feature_names_in", "validate_data"]
