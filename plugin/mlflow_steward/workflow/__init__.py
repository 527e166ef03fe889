"""The pipeline as MLflow runs: steps reused when their parameters, inputs and code match.

Composes ``data``, ``cleaning``, ``tuning``, ``evaluation``, ``serving``, ``ensemble`` and
``registry`` into the ``main`` job. The step machinery it runs on (``run_step``,
``load_step_inputs``, ``make_model_pipeline``, ``dataset_tags``, registering a run's model) lives
one layer down in :mod:`mlflow_steward.steps`, shared with ``ensemble`` and ``retrain``; the names
are re-exported here for existing callers. Nothing in the package imports ``workflow``.
"""

from mlflow_steward.steps import (
    StepOutcome,
    code_version,
    dataset_tags,
    load_step_inputs,
    make_model_pipeline,
    run_step,
    step_key,
)
from mlflow_steward.workflow._config import DEFAULT_MODEL_NAME, PipelineConfig
from mlflow_steward.workflow._pipeline import PipelineOutcome, run_pipeline
from mlflow_steward.workflow._steps import (
    TrainOutcome,
    clean_step,
    evaluate_on_test,
    train_step,
    tune_step,
)

__all__ = [
    "DEFAULT_MODEL_NAME",
    "PipelineConfig",
    "PipelineOutcome",
    "StepOutcome",
    "TrainOutcome",
    "clean_step",
    "dataset_tags",
    "make_model_pipeline",
    "code_version",
    "evaluate_on_test",
    "load_step_inputs",
    "run_pipeline",
    "run_step",
    "step_key",
    "train_step",
    "tune_step",
]
