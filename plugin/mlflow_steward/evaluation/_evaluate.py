"""Entry points: ``evaluate_model`` (model + frame), ``evaluate_predictions`` (predictions + frame)
and ``evaluate_uri`` (model URI + data file -> logged run), in the order predict -> validate ->
metrics -> slices -> error analysis -> report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward.evaluation._config import EvaluationConfig
from mlflow_steward.evaluation._error_analysis import permutation_importance, worst_rows
from mlflow_steward.evaluation._metrics import (
    Predictions,
    classification_predictions,
    overall_intervals,
    regression_predictions,
    task_metrics,
)
from mlflow_steward.evaluation._predict import (
    adapt_model,
    as_label_array,
    as_prediction_vector,
    normalize_task,
)
from mlflow_steward.evaluation._report import EvaluationReport
from mlflow_steward.evaluation._slice_table import measure
from mlflow_steward.evaluation._slices import slice_masks
from mlflow_steward.exceptions import StewardInputError

NOT_A_FRAME = "data must be a pandas DataFrame, got {got}"
EMPTY_FRAME = "data has no rows"
MISSING_TARGET = "data has no target column {target!r}; columns: {columns}"
MISSING_FEATURES = "data lacks the feature columns {missing}"
TARGET_HAS_NAN = "target column {target!r} has {count} missing values; drop or fill them before evaluating"
BAD_CONFIG_TYPE = "config must be an EvaluationConfig, a dict or None, got {got}"
MODEL_NOT_LOADED = "model {uri!r} could not be loaded: {reason}"
RUN_NOT_FOUND = "run {run_id!r} could not be used: {reason}"
PREDICTIONS_LENGTH = "predictions have {got} values for {expected} rows"
MODEL_COLUMNS_MISSING = (
    "data file {path} lacks column(s) {missing} that model {uri!r} expects (it expects {expected}); "
    "evaluate on data with the model's input columns"
)


def as_config(config: EvaluationConfig | Mapping[str, Any] | None) -> EvaluationConfig:
    """Accept a parsed config, a plain dict (parsed with ``from_dict``) or None (defaults)."""
    if config is None or isinstance(config, Mapping):
        return EvaluationConfig.from_dict(config)
    if isinstance(config, EvaluationConfig):
        return config
    raise StewardInputError(BAD_CONFIG_TYPE.format(got=type(config).__name__))


def _check_frame(data: Any, target: str, feature_columns: Sequence[str] | None) -> list[str]:
    if not isinstance(data, pd.DataFrame):
        raise StewardInputError(NOT_A_FRAME.format(got=type(data).__name__))
    if len(data) == 0:
        raise StewardInputError(EMPTY_FRAME)
    if target not in data.columns:
        raise StewardInputError(MISSING_TARGET.format(target=target, columns=", ".join(map(str, data.columns))))
    missing_target = int(data[target].isna().sum())
    if missing_target:
        raise StewardInputError(TARGET_HAS_NAN.format(target=target, count=missing_target))
    if feature_columns is None:
        return [c for c in data.columns if c != target]
    missing = [c for c in feature_columns if c not in data.columns]
    if missing:
        raise StewardInputError(MISSING_FEATURES.format(missing=missing))
    return list(feature_columns)


def _to_predictions(task, y_true_raw, y_pred, proba, classes, config: EvaluationConfig, target: str) -> Predictions:
    if task == "regression":
        return regression_predictions(y_true_raw, y_pred, target=target)
    return classification_predictions(y_true_raw, y_pred, proba=proba, classes=classes, pos_label=config.pos_label)


def _build_report(
    data: pd.DataFrame,
    features: pd.DataFrame,
    target: str,
    y_true_raw: np.ndarray,
    preds: Predictions,
    config: EvaluationConfig,
    categorical: Sequence[str] | None,
    importance: pd.DataFrame,
) -> EvaluationReport:
    metrics, metric_notes = task_metrics(preds.task, config, has_proba=preds.proba is not None)
    exclude = [c for c in data.columns if c not in features.columns]
    masks = slice_masks(data, config.slices, categorical=categorical, exclude=exclude)
    measured = measure(preds, metrics, config, masks)  # overall and per slice: the one engine
    overall, overall_notes = overall_intervals(preds, metrics, config, measured=measured)
    metrics = [m for m in metrics if m in overall] or metrics
    table = measured.by_slice
    if not table["metric"].isin(metrics).all():  # a metric undefined on all rows is not reported
        table = table[table["metric"].isin(metrics)].reset_index(drop=True)
    return EvaluationReport(
        task=preds.task,
        target=target,
        n_rows=len(preds),
        metric_names=tuple(metrics),
        overall=overall,
        by_slice=table,
        worst_rows=worst_rows(features, target, y_true_raw, preds, config.worst_n),
        feature_importance=importance,
        config=config,
        predictions=preds,
        notes=tuple(metric_notes) + tuple(overall_notes),
    )


def _empty_importance() -> pd.DataFrame:
    from mlflow_steward.evaluation._error_analysis import IMPORTANCE_COLUMNS

    return pd.DataFrame(columns=IMPORTANCE_COLUMNS)


def evaluate_model(
    model: Any,
    data: pd.DataFrame,
    *,
    target: str,
    task: str,
    config: EvaluationConfig | Mapping[str, Any] | None = None,
    feature_columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    predictions_column: str | None = None,
) -> EvaluationReport:
    """Evaluate ``model`` on ``data`` (features + ``target``): metrics with intervals, slices,
    worst rows, permutation importance.

    ``model``: a scikit-learn estimator/pipeline, an MLflow pyfunc model or a predict function
    (``frame -> predictions``). ``task``: ``"regression"``/``"classification"`` (or MLflow's
    ``"regressor"``/``"classifier"``). ``feature_columns``: the model's input columns (default:
    every column but the target). ``categorical``: columns sliced by value (default: by dtype).
    ``predictions_column``: which column of a multi-column model output is the prediction.
    """
    task = normalize_task(task)
    config = as_config(config)
    columns = _check_frame(data, target, feature_columns)
    features = data[columns]
    y_true_raw = as_label_array(data[target])
    adapter = adapt_model(model)

    def score(frame: pd.DataFrame) -> Predictions:
        y_pred = as_prediction_vector(adapter.predict(frame), len(frame), column=predictions_column)
        proba = None
        if task == "classification" and adapter.predict_proba is not None:
            proba = np.asarray(adapter.predict_proba(frame), dtype=float)
        return _to_predictions(task, y_true_raw, y_pred, proba, adapter.classes, config, target)

    preds = score(features)
    importance = _empty_importance()
    if config.permutation_importance:
        importance = permutation_importance(
            features, score, preds, repeats=config.importance_repeats, random_state=config.random_state
        )
    return _build_report(data, features, target, y_true_raw, preds, config, categorical, importance)


def evaluate_predictions(
    data: pd.DataFrame,
    y_pred: Any,
    *,
    target: str,
    task: str,
    config: EvaluationConfig | Mapping[str, Any] | None = None,
    proba: Any = None,
    classes: Sequence[Any] | None = None,
    feature_columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
) -> EvaluationReport:
    """Like :func:`evaluate_model` for predictions made elsewhere (no permutation importance).

    Classification: ``proba`` is the ``(n, k)`` probability matrix whose columns follow ``classes``.
    """
    task = normalize_task(task)
    config = as_config(config)
    columns = _check_frame(data, target, feature_columns)
    y_pred = as_label_array(y_pred)
    if len(y_pred) != len(data):
        raise StewardInputError(PREDICTIONS_LENGTH.format(got=len(y_pred), expected=len(data)))
    y_true_raw = as_label_array(data[target])
    preds = _to_predictions(task, y_true_raw, y_pred, proba, None if classes is None else tuple(classes), config, target)
    return _build_report(data, data[columns], target, y_true_raw, preds, config, categorical, _empty_importance())


def _load_model(model_uri: str):
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        reason = str(getattr(exc, "message", exc)).strip().splitlines()
        raise StewardInputError(MODEL_NOT_LOADED.format(uri=model_uri, reason=reason[0] if reason else type(exc).__name__)) from exc


def _model_inputs(model) -> list[str] | None:
    """The input columns the model records (ours: ``steward_features``; else its signature), or None."""
    meta = getattr(model, "metadata", None)
    recorded = (getattr(meta, "metadata", None) or {}).get(names.MODEL_METADATA_FEATURES)
    if isinstance(recorded, list) and all(isinstance(item, dict) and "name" in item for item in recorded):
        return [str(item["name"]) for item in recorded]
    schema = getattr(meta, "get_input_schema", lambda: None)()
    names_in = schema.input_names() if schema is not None and schema.has_input_names() else None
    if names_in and all(isinstance(n, str) for n in names_in):
        return list(names_in)
    return None


def evaluate_uri(
    model_uri: str,
    data_path: str,
    *,
    target: str,
    task: str,
    config: EvaluationConfig | Mapping[str, Any] | None = None,
    run_id: str | None = None,
    experiment: str | None = None,
    missing_markers: Sequence[str] = (),
) -> tuple[EvaluationReport, str]:
    """Load a model URI and a data file, evaluate, log to a run; returns ``(report, run_id)``.

    ``run_id``: log into this existing run. Otherwise a new run is created in ``experiment``
    (created if needed) or, without one, in the active experiment (or into the active run).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from mlflow_steward.data import DatasetSpec, load_dataset

    task = normalize_task(task)
    config = as_config(config)
    loaded = load_dataset(data_path, DatasetSpec(target=target, task=task, missing_markers=tuple(missing_markers)))
    client = mlflow.MlflowClient()
    if run_id is not None:  # fail before the (slow) evaluation
        try:
            client.get_run(run_id)
        except MlflowException as exc:
            raise StewardInputError(RUN_NOT_FOUND.format(run_id=run_id, reason=exc.message.splitlines()[0])) from exc
    model = _load_model(model_uri)
    features = _model_inputs(model)
    if features is None:
        features = list(loaded.spec.feature_columns())
    missing = [c for c in features if c not in loaded.frame.columns or c == target]
    if missing:  # before anything is evaluated or logged
        raise StewardInputError(
            MODEL_COLUMNS_MISSING.format(
                path=loaded.source, missing=", ".join(map(repr, missing)), uri=model_uri,
                expected=", ".join(features),
            )
        )
    report = evaluate_model(
        model, loaded.frame, target=target, task=task, config=config, feature_columns=features,
        categorical=[c for c in (loaded.spec.categorical or ()) if c in features],
    )
    if run_id is not None:
        report.log_to_mlflow(run_id)
        return report, run_id
    if experiment is None and mlflow.active_run() is not None:
        active = mlflow.active_run().info.run_id
        report.log_to_mlflow(active)
        return report, active
    experiment_id = None
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    tags = {
        names.TAG_STEP: names.STEP_EVALUATE,
        names.TAG_TASK: task,
        names.TAG_TARGET: target,
        names.TAG_DATASET_DIGEST: loaded.digest,
        names.TAG_DATASET_SOURCE: loaded.source,
    }
    with mlflow.start_run(experiment_id=experiment_id, tags=tags, nested=mlflow.active_run() is not None) as run:
        mlflow.log_param(names.PARAM_MODEL_URI, model_uri)
        report.log_to_mlflow(run.info.run_id)
    return report, run.info.run_id
