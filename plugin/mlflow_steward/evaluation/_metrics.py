"""Metric inputs, point values, per-row losses and the overall intervals.

Classification labels are encoded once as integer codes ``0..k-1`` in the model's class order
(``classes_`` when the model has it, else sorted), so every metric sees integers and, for a
binary task, the positive class is code 1 (``pos_label``, default the last class).
Probability metrics get the positive-class probability (binary) or the ``(n, k)`` matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlflow_steward.evaluation._config import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    EvaluationConfig,
)
from mlflow_steward.exceptions import StewardInputError

PROBA_METRICS = frozenset({"roc_auc", "log_loss", "brier"})
GREATER_IS_BETTER = frozenset({"r2", "accuracy", "f1", "roc_auc"})
T_SUFFIX = "_t"  # ``rmse_t``: the RMSE t-interval, reported beside the bootstrap one

WRONG_TASK_METRIC = "metric {name!r} is not a {task} metric; {task} metrics: {valid}"
POS_LABEL_UNKNOWN = "pos_label {pos_label!r} is not one of the classes {classes}"
PROBA_SHAPE = "predict_proba returned shape {shape}, expected ({n}, {k}) for classes {classes}"
TARGET_NOT_NUMERIC = "regression target {target!r} must be numeric (got dtype {dtype})"
UNKNOWN_LABELS = "predicted labels {labels} are not among the classes {classes}"
NOTE_NO_PROBA = "model gives no class probabilities; probability metrics ({names}) skipped"
NOTE_UNDEFINED = "{metric} is undefined on the whole data ({error}); not reported"


@dataclass(frozen=True)
class Predictions:
    """Targets and model outputs in the form the metrics take (see module docstring)."""

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None  # binary: (n,) positive class; multiclass: (n, k)
    classes: tuple[Any, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.y_true)

    def metric_input(self, metric: str) -> np.ndarray:
        return self.proba if metric in PROBA_METRICS else self.y_pred

    def subset(self, mask: np.ndarray) -> Predictions:
        return Predictions(
            self.task,
            self.y_true[mask],
            self.y_pred[mask],
            None if self.proba is None else self.proba[mask],
            self.classes,
            self.notes,
        )

    def strata(self) -> np.ndarray | None:
        """Bootstrap strata: the classes (every resample keeps every class), none for regression."""
        return self.y_true if self.task == "classification" else None


def task_metrics(task: str, config: EvaluationConfig, *, has_proba: bool) -> tuple[list[str], list[str]]:
    """The metrics to compute, and notes about the ones skipped."""
    valid = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    wanted = list(config.metrics) if config.metrics is not None else list(valid)
    for name in wanted:
        if name not in valid:
            raise StewardInputError(WRONG_TASK_METRIC.format(name=name, task=task, valid=", ".join(valid)))
    notes = []
    if not has_proba:
        skipped = [m for m in wanted if m in PROBA_METRICS]
        wanted = [m for m in wanted if m not in PROBA_METRICS]
        if skipped:
            notes.append(NOTE_NO_PROBA.format(names=", ".join(skipped)))
        if not wanted:  # only probability metrics were asked for: fall back to accuracy
            wanted = ["accuracy"]
    return wanted, notes


def regression_predictions(y_true: Any, y_pred: Any, *, target: str) -> Predictions:
    y = np.asarray(y_true)
    if not np.issubdtype(y.dtype, np.number):
        raise StewardInputError(TARGET_NOT_NUMERIC.format(target=target, dtype=y.dtype))
    return Predictions("regression", y.astype(float), np.asarray(y_pred, dtype=float))


def classification_predictions(
    y_true: Any,
    y_pred: Any,
    *,
    proba: np.ndarray | None,
    classes: tuple[Any, ...] | None,
    pos_label: Any = None,
) -> Predictions:
    """Encode labels as codes; reorder so a binary task's positive class is code 1."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if classes is None or proba is None:
        classes = tuple(sorted(set(y_true.tolist()) | set(y_pred.tolist()), key=_sort_key))
        proba = None
    classes = tuple(classes)
    order = list(range(len(classes)))
    if len(classes) == 2:
        positive = classes[-1] if pos_label is None else pos_label
        if positive not in classes:
            raise StewardInputError(POS_LABEL_UNKNOWN.format(pos_label=pos_label, classes=list(classes)))
        order = [1 - classes.index(positive), classes.index(positive)]
    classes = tuple(classes[i] for i in order)
    codes = {c: i for i, c in enumerate(classes)}
    # labels absent from the model's classes (unseen in training) get their own codes
    for label in sorted(set(y_true.tolist()) - set(codes), key=_sort_key):
        codes[label] = len(codes)
    unknown = set(y_pred.tolist()) - set(codes)
    if unknown:
        raise StewardInputError(UNKNOWN_LABELS.format(labels=sorted(unknown, key=_sort_key), classes=list(classes)))
    true_codes = np.array([codes[v] for v in y_true.tolist()], dtype=int)
    pred_codes = np.array([codes[v] for v in y_pred.tolist()], dtype=int)
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
            raise StewardInputError(
                PROBA_SHAPE.format(shape=proba.shape, n=len(y_true), k=len(classes), classes=list(classes))
            )
        proba = proba[:, order]
        proba = proba[:, 1] if len(classes) == 2 else proba
    return Predictions("classification", true_codes, pred_codes, proba, classes)


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value) if not isinstance(value, (int, float, np.number)) else ("", value)


def point_value(metric: str, preds: Predictions) -> float:
    """The metric on ``preds`` (raises ``StatsInputError``/``ValueError`` when undefined)."""
    from mlflow_steward.evaluation._metric_frame import point_value as engine_point_value

    return engine_point_value(metric, preds.y_true, preds.metric_input(metric))


def row_losses(metric: str, preds: Predictions) -> np.ndarray | None:
    """Per-row losses whose mean orders rows like the metric, or None if the metric is not a mean.

    rmse -> squared error, mae -> absolute error, mape -> absolute percentage error,
    accuracy -> 0/1 error, log_loss -> per-row log loss, brier -> per-row squared probability error.
    r2, f1 and roc_auc are not means of per-row terms: slices get intervals but no test.
    """
    y, p = preds.y_true, preds.metric_input(metric)
    if metric == "rmse":
        return (y - p) ** 2
    if metric == "mae":
        return np.abs(y - p)
    if metric == "mape":
        return np.abs(y - p) / np.maximum(np.abs(y), np.finfo(float).eps)
    if metric == "accuracy":
        return (y != p).astype(float)
    if metric in ("log_loss", "brier"):
        if p.ndim == 1:
            p_true = np.where(y == 1, p, 1.0 - p)
            sq = (p - (y == 1)) ** 2
        else:
            onehot = np.zeros_like(p)
            inside = y < p.shape[1]
            onehot[np.flatnonzero(inside), y[inside]] = 1.0
            p_true = (p * onehot).sum(axis=1)
            sq = ((p - onehot) ** 2).sum(axis=1)
        if metric == "brier":
            return sq
        return -np.log(np.clip(p_true, 1e-15, 1.0))
    return None


def overall_intervals(
    preds: Predictions, metrics: list[str], config: EvaluationConfig, *, measured: Any = None
) -> tuple[dict[str, Any], list[str]]:
    """Bootstrap interval of every metric (+ the t-interval of RMSE as ``rmse_t``) and notes.

    ``measured``: the engine's :class:`~mlflow_steward.evaluation._metric_frame.MetricFrame` of
    these metrics when the caller already has it (the report measures overall and slices at once).
    """
    from mlflow_steward.stats import rmse_t_interval

    if measured is None:
        from mlflow_steward.evaluation._slice_table import measure

        measured = measure(preds, metrics, config)
    overall: dict[str, Any] = {}
    notes: list[str] = []
    for metric in metrics:
        if metric not in measured.overall:
            notes.append(NOTE_UNDEFINED.format(metric=metric, error=measured.undefined[metric]))
            continue
        overall[metric] = measured.overall[metric]
        if metric == "rmse":
            overall[metric + T_SUFFIX] = rmse_t_interval(preds.y_true, preds.y_pred, confidence=config.confidence)
    return overall, notes
