"""The pipeline as MLflow runs: steps reused when their parameters, inputs and code match.

Composes ``data``, ``cleaning``, ``tuning``, ``evaluation``, ``serving``, ``ensemble`` and
``registry``. Its step layer (``run_step``, ``load_step_inputs``, ``make_model_pipeline``,
``dataset_tags``) is also used by ``ensemble``, whose builds are steps too; nothing else imports it.
"""

from mlflow_steward.workflow._config import DEFAULT_MODEL_NAME, PipelineConfig
from mlflow_steward.workflow._pipeline import PipelineOutcome, run_pipeline
from mlflow_steward.workflow._reuse import StepOutcome, code_version, run_step, step_key
from mlflow_steward.workflow._steps import (
    TrainOutcome,
    clean_step,
    dataset_tags,
    make_model_pipeline,
    evaluate_on_test,
    load_step_inputs,
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
