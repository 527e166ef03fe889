"""``StewardEvaluator``: the MLflow evaluator plugin (entry point ``steward``).

A thin adapter: parse ``evaluator_config`` once into :class:`EvaluationConfig`, rebuild the
evaluation frame from MLflow's ``EvaluationDataset``, run :func:`evaluate_model` (or
:func:`evaluate_predictions` for a static dataset), log to ``run_id``, return an
``EvaluationResult``. No working state on ``self``.

Use it with::

    mlflow.models.evaluate(model_uri, data, targets="y", model_type="regressor",
                           evaluators=["steward"], evaluator_config={"steward": {...}})

MLflow imports this module when it loads evaluator entry points, so it imports only MLflow's
evaluator base class at module level.
"""

from __future__ import annotations

import logging
from typing import Any

from mlflow.models.evaluation.base import EvaluationResult, ModelEvaluator

_logger = logging.getLogger(__name__)

MODEL_TYPES = {"regressor": "regression", "classifier": "classification"}
NO_TARGETS = "the steward evaluator needs targets: pass targets=<column> to mlflow.models.evaluate"
NO_PREDICTIONS = "the steward evaluator needs a model or a dataset with predictions"
IGNORED_EXTRAS = "the steward evaluator ignores extra_metrics and custom_artifacts (MLflow's built-in evaluators handle them)"
DEFAULT_TARGET_NAME = "target"


def _evaluation_frame(dataset) -> tuple[Any, str, list[str]]:
    """(features + target frame, target column, feature columns) from an ``EvaluationDataset``."""
    import pandas as pd

    features = dataset.features_data
    if not isinstance(features, pd.DataFrame):
        features = pd.DataFrame(features, columns=dataset.feature_names)
    target = dataset.targets_name or DEFAULT_TARGET_NAME
    frame = features.copy()
    frame[target] = dataset.labels_data
    return frame, target, list(features.columns)


def _artifact(run_id: str, path: str):
    from mlflow.models.evaluation.artifacts import (
        CsvEvaluationArtifact,
        ImageEvaluationArtifact,
        JsonEvaluationArtifact,
    )

    from mlflow_steward._compat.mlflow import run_artifact_uri

    cls = {"csv": CsvEvaluationArtifact, "json": JsonEvaluationArtifact, "png": ImageEvaluationArtifact}[
        path.rsplit(".", 1)[-1]
    ]
    return cls(uri=run_artifact_uri(run_id, path))


class StewardEvaluator(ModelEvaluator):
    """Metrics with confidence intervals, slice analysis and error analysis for sklearn-style
    regressors and classifiers (any pyfunc model)."""

    name = "steward"

    @classmethod
    def can_evaluate(cls, *, model_type, evaluator_config, **kwargs) -> bool:
        return model_type in MODEL_TYPES

    def evaluate(
        self,
        *,
        model_type,
        dataset,
        run_id,
        evaluator_config,
        model=None,
        extra_metrics=None,
        custom_artifacts=None,
        predictions=None,
        **kwargs,
    ) -> EvaluationResult:
        from mlflow_steward.evaluation._config import MLFLOW_BUILTIN_KEYS, EvaluationConfig
        from mlflow_steward.evaluation._evaluate import evaluate_model, evaluate_predictions
        from mlflow_steward.exceptions import StewardInputError

        config = EvaluationConfig.from_dict(evaluator_config, ignore=MLFLOW_BUILTIN_KEYS)
        task = MODEL_TYPES[model_type]
        if not dataset.has_targets:
            raise StewardInputError(NO_TARGETS)
        if extra_metrics or custom_artifacts:
            _logger.warning(IGNORED_EXTRAS)
        frame, target, features = _evaluation_frame(dataset)
        if model is not None:
            report = evaluate_model(
                model, frame, target=target, task=task, config=config,
                feature_columns=features, predictions_column=predictions,
            )
        elif dataset.predictions_data is not None:
            report = evaluate_predictions(
                frame, dataset.predictions_data, target=target, task=task, config=config,
                feature_columns=features,
            )
        else:
            raise StewardInputError(NO_PREDICTIONS)
        logged = report.log_to_mlflow(
            run_id,
            model_id=kwargs.get("model_id"),
            dataset_name=getattr(dataset, "name", None),
            dataset_digest=getattr(dataset, "digest", None),
        )
        artifacts = {path: _artifact(run_id, path) for path in logged}
        return EvaluationResult(metrics=report.metrics(), artifacts=artifacts, run_id=run_id)
