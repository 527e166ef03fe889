"""Turn "a model" (sklearn estimator, MLflow pyfunc model, or a predict function) into predictions.

For classification we want probabilities when the model can give them. A pyfunc model only
exposes ``predict``; for pyfunc models that wrap scikit-learn we reach the underlying estimator
as a best effort (``get_raw_model`` / ``unwrap_python_model``) and otherwise evaluate the labels
alone, recording a note that the probability metrics were skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError

TASKS = ("regression", "classification")
_TASK_ALIASES = {
    "regression": "regression",
    "regressor": "regression",
    "classification": "classification",
    "classifier": "classification",
}

UNKNOWN_TASK = "task must be one of 'regression', 'classification' (or MLflow's 'regressor', 'classifier'), got {got!r}"
NOT_A_MODEL = "model must be a scikit-learn estimator, an MLflow pyfunc model or a predict function, got {got}"
BAD_OUTPUT = "model output has {n_columns} columns; pass predictions=<column> to say which one is the prediction"
WRONG_LENGTH = "model returned {got} predictions for {expected} rows"
MODEL_REFUSED_DATA = "the model refused the data: {reason}"


def normalize_task(task: str) -> str:
    """``"regressor"`` -> ``"regression"``, ``"classifier"`` -> ``"classification"``."""
    if not isinstance(task, str) or task not in _TASK_ALIASES:
        raise StewardInputError(UNKNOWN_TASK.format(got=task))
    return _TASK_ALIASES[task]


@dataclass(frozen=True)
class ModelAdapter:
    """What evaluation needs from a model: predict, maybe predict_proba and its class order."""

    predict: Callable[[pd.DataFrame], Any]
    predict_proba: Callable[[pd.DataFrame], Any] | None = None
    classes: tuple[Any, ...] | None = None  # column order of predict_proba


def _sklearn_adapter(estimator: Any) -> ModelAdapter:
    proba = getattr(estimator, "predict_proba", None)  # None also when available_if hides it
    classes = getattr(estimator, "classes_", None)
    if proba is not None and classes is None:
        proba = None  # without classes_ we cannot tell which column is which class
    return ModelAdapter(
        predict=estimator.predict,
        predict_proba=proba,
        classes=None if classes is None else tuple(np.asarray(classes).tolist()),
    )


def _refusals_as_input_errors(method: Callable[[pd.DataFrame], Any]) -> Callable[[pd.DataFrame], Any]:
    """A pyfunc refusing its input (HTTP 400 when served: ``INVALID_PARAMETER_VALUE``, e.g. a
    non-finite number, named by the model's own validation) -> :class:`StewardInputError`."""

    def call(X: pd.DataFrame) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return method(X)
        except MlflowException as exc:
            if exc.error_code != "INVALID_PARAMETER_VALUE":
                raise
            raise StewardInputError(MODEL_REFUSED_DATA.format(reason=exc.message)) from None

    return call


def adapt_model(model: Any) -> ModelAdapter:
    """Return a :class:`ModelAdapter` for a sklearn estimator, a pyfunc model or a function."""
    from mlflow_steward.serving import fitted_estimator, is_pyfunc_model

    if is_pyfunc_model(model):
        raw = fitted_estimator(model)
        predict = _refusals_as_input_errors(model.predict)
        if raw is not None and hasattr(raw, "predict_proba"):
            adapter = _sklearn_adapter(raw)
            # predict through the pyfunc (schema enforcement, as served), probabilities from the raw model
            proba = None if adapter.predict_proba is None else _refusals_as_input_errors(adapter.predict_proba)
            return ModelAdapter(predict=predict, predict_proba=proba, classes=adapter.classes)
        return ModelAdapter(predict=predict)
    if hasattr(model, "predict") and callable(model.predict):
        return _sklearn_adapter(model)
    if callable(model):
        return ModelAdapter(predict=model)
    raise StewardInputError(NOT_A_MODEL.format(got=type(model).__name__))


def as_prediction_vector(output: Any, n_rows: int, *, column: str | None = None) -> np.ndarray:
    """Flatten a model's output (array, Series, one-column DataFrame, list) to a 1-d array."""
    if isinstance(output, pd.DataFrame):
        if column is not None and column in output.columns:
            output = output[column]
        elif output.shape[1] == 1:
            output = output.iloc[:, 0]
        else:
            raise StewardInputError(BAD_OUTPUT.format(n_columns=output.shape[1]))
    if isinstance(output, pd.Series):
        values = output.to_numpy(dtype=object) if not pd.api.types.is_numeric_dtype(output) else output.to_numpy()
    else:
        values = np.asarray(output)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise StewardInputError(BAD_OUTPUT.format(n_columns=values.shape[1]))
    if len(values) != n_rows:
        raise StewardInputError(WRONG_LENGTH.format(got=len(values), expected=n_rows))
    return values


def as_label_array(values: Any) -> np.ndarray:
    """Labels as a plain numpy array (pandas 3 string columns become object arrays)."""
    if isinstance(values, (pd.Series, pd.Index)):
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return values.to_numpy()
        return values.to_numpy(dtype=object)
    return np.asarray(values)
