"""Honest evaluation: metrics with confidence intervals, slices, error analysis, plots.

``evaluate_model(model, frame, target=..., task=..., config=...)`` returns an
:class:`EvaluationReport`; :class:`EvaluationConfig` is parsed once from a dict with
``EvaluationConfig.from_dict``; :func:`slice_masks` gives the slices (the registry gate scores
champion and challenger on the same ones). The MLflow evaluator plugin lives in the public module
``mlflow_steward.evaluation.evaluator`` (entry point ``steward``).

Importing this package imports neither MLflow nor matplotlib nor scipy.
"""

from mlflow_steward.evaluation._config import (
    CLASSIFICATION_METRICS,
    KNOWN_METRICS,
    REGRESSION_METRICS,
    EvaluationConfig,
)
from mlflow_steward.evaluation._evaluate import (
    evaluate_model,
    evaluate_predictions,
    evaluate_uri,
)
from mlflow_steward.evaluation._report import EvaluationReport
from mlflow_steward.evaluation._slices import slice_masks

__all__ = [
    "CLASSIFICATION_METRICS",
    "KNOWN_METRICS",
    "REGRESSION_METRICS",
    "EvaluationConfig",
    "EvaluationReport",
    "evaluate_model",
    "evaluate_predictions",
    "evaluate_uri",
    "slice_masks",
]
