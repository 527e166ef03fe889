"""Steps: MLflow runs as reusable steps, the layer ``workflow``, ``ensemble`` and ``retrain`` call.

* reuse by step key: :func:`run_step` runs a step's body in a new run unless a FINISHED run with
  the same step key (hash of step, parameters, inputs and code version, :func:`step_key`) exists;
* a step's inputs: :func:`load_step_inputs` reads the spec, cleaning config and fixed split a
  clean run stored, :func:`dataset_tags` its dataset records;
* the model pipeline: :func:`make_model_pipeline` / :func:`pipeline_factory` (cleaning +
  estimator), :func:`feature_frame` (the columns it takes);
* registering a run's model: :func:`register_run_model` (the one place a step's model becomes a
  registry candidate), :func:`register_once` (idempotent, by run id);
* the steps themselves: :func:`record_data_run` (a clean run's records), :func:`version_data_step`
  (the data step of a named dataset version), :func:`tune_step`, :func:`train_step`.

Importing this package loads pandas, not MLflow (MLflow is imported when a step runs).
"""

from mlflow_steward.steps._data_step import record_data_run, version_data_step
from mlflow_steward.steps._fit_steps import (
    BEST_TRIAL_ARTIFACT,
    StepSettings,
    TrainOutcome,
    best_trial,
    evaluate_on_test,
    register_once,
    train_step,
    tune_step,
)
from mlflow_steward.steps._inputs import (
    CLEANING_CONFIG_ARTIFACT,
    SPEC_ARTIFACT,
    StepInputs,
    dataset_tags,
    load_step_inputs,
)
from mlflow_steward.steps._model_pipeline import (
    feature_frame,
    make_cleaning,
    make_model_pipeline,
    pipeline_factory,
)
from mlflow_steward.steps._register import register_run_model
from mlflow_steward.steps._reuse import (
    STEP_PARAM_PREFIX,
    StepOutcome,
    code_version,
    find_finished_run,
    run_step,
    step_key,
)

__all__ = [
    "BEST_TRIAL_ARTIFACT",
    "StepSettings",
    "TrainOutcome",
    "best_trial",
    "evaluate_on_test",
    "record_data_run",
    "register_once",
    "train_step",
    "tune_step",
    "version_data_step",
    "CLEANING_CONFIG_ARTIFACT",
    "SPEC_ARTIFACT",
    "STEP_PARAM_PREFIX",
    "StepInputs",
    "StepOutcome",
    "code_version",
    "dataset_tags",
    "feature_frame",
    "find_finished_run",
    "load_step_inputs",
    "make_cleaning",
    "make_model_pipeline",
    "pipeline_factory",
    "register_run_model",
    "run_step",
    "step_key",
]
