"""The one way to reach the fitted scikit-learn object behind an MLflow pyfunc model.

Our :class:`~mlflow_steward.serving.StewardModel` keeps its fitted pipeline as ``.pipeline``;
MLflow's sklearn flavour hands the estimator out through ``get_raw_model()``. Evaluation (for
``predict_proba``), the gate (to score without capture) and ensemble building (to reuse a fitted
member) all go through :func:`fitted_estimator`. Only public MLflow API is used.
"""

from __future__ import annotations

import sys
from typing import Any

#: Attributes a python_model may keep its fitted estimator under (ours: ``pipeline``).
ESTIMATOR_ATTRIBUTES: tuple[str, ...] = ("pipeline", "model", "estimator")


def is_pyfunc_model(obj: Any) -> bool:
    """Whether ``obj`` is an ``mlflow.pyfunc.PyFuncModel`` (without importing MLflow for others)."""
    pyfunc = sys.modules.get("mlflow.pyfunc")
    return pyfunc is not None and isinstance(obj, pyfunc.PyFuncModel)


def fitted_estimator(pyfunc_model: Any) -> Any | None:
    """The fitted scikit-learn-like object (with ``predict``) behind ``pyfunc_model``, or None.

    First the flavour's raw model (``get_raw_model()``, e.g. the sklearn flavour), then a
    ``PythonModel``'s ``pipeline`` / ``model`` / ``estimator`` attribute (``unwrap_python_model()``).
    """
    get_raw = getattr(pyfunc_model, "get_raw_model", None)
    if get_raw is not None:
        try:
            raw = get_raw()
        except (NotImplementedError, AttributeError):
            raw = None
        if raw is not None and hasattr(raw, "predict"):
            return raw
    unwrap = getattr(pyfunc_model, "unwrap_python_model", None)
    if unwrap is None:
        return None
    from mlflow.exceptions import MlflowException

    try:
        python_model = unwrap()
    except MlflowException:  # not a PythonModel-based flavour
        return None
    for attribute in ESTIMATOR_ATTRIBUTES:
        candidate = getattr(python_model, attribute, None)
        if candidate is not None and hasattr(candidate, "predict"):
            return candidate
    return None
