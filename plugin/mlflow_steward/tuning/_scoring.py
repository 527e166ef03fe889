"""CV scores: one small table of named scorers, each with its direction.

Defaults: ``rmse`` (minimise) for regression; ``roc_auc`` (maximise) for classification — the
positive-class probability for binary targets, one-vs-rest macro average for more classes. ROC AUC
ranks families on how well they order rows, whatever their calibration; pass ``scoring="log_loss"``
(minimise) to rank on calibrated probabilities instead.

Classifiers are scored on ``predict_proba``; its columns follow the sorted class labels (as
scikit-learn's ``classes_``), so the positive class of a binary target is the larger label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardInputError

from ._families import CLASSIFICATION, REGRESSION

MINIMIZE = "minimize"
MAXIMIZE = "maximize"
MSG_BAD_SCORING = "scoring {scoring!r} is not available for {task}; choose one of {valid}"


def _rmse(y: np.ndarray, pred: np.ndarray, classes: np.ndarray | None) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - pred) ** 2)))


def _mae(y: np.ndarray, pred: np.ndarray, classes: np.ndarray | None) -> float:
    return float(np.mean(np.abs(np.asarray(y, dtype=float) - pred)))


def _r2(y: np.ndarray, pred: np.ndarray, classes: np.ndarray | None) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


def _roc_auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None) -> float:
    from sklearn.metrics import roc_auc_score

    if proba.shape[1] == 2:
        return float(roc_auc_score(y == classes[1], proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))


def _log_loss(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None) -> float:
    from sklearn.metrics import log_loss

    return float(log_loss(y, proba, labels=classes))


@dataclass(frozen=True)
class Scorer:
    """A CV score: ``fn(y_true, prediction, classes)``; classifiers predict a probability matrix."""

    name: str
    task: str
    direction: str
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float] = field(repr=False)

    def score(self, pipeline: Any, X: Any, y: np.ndarray, classes: np.ndarray | None) -> float:
        return self.fn(y, predict(pipeline, X, self.task, classes), classes)


SCORERS: dict[str, dict[str, Scorer]] = {
    REGRESSION: {
        "rmse": Scorer("rmse", REGRESSION, MINIMIZE, _rmse),
        "mae": Scorer("mae", REGRESSION, MINIMIZE, _mae),
        "r2": Scorer("r2", REGRESSION, MAXIMIZE, _r2),
    },
    CLASSIFICATION: {
        "roc_auc": Scorer("roc_auc", CLASSIFICATION, MAXIMIZE, _roc_auc),
        "log_loss": Scorer("log_loss", CLASSIFICATION, MINIMIZE, _log_loss),
    },
}
DEFAULT_SCORING = {REGRESSION: "rmse", CLASSIFICATION: "roc_auc"}


def get_scorer(task: str, scoring: str | None) -> Scorer:
    name = DEFAULT_SCORING[task] if scoring is None else scoring
    if name not in SCORERS[task]:
        raise StewardInputError(
            MSG_BAD_SCORING.format(scoring=scoring, task=task, valid=", ".join(SCORERS[task]))
        )
    return SCORERS[task][name]


def predict(pipeline: Any, X: Any, task: str, classes: np.ndarray | None) -> np.ndarray:
    """Regression: predictions. Classification: probabilities, one column per class of ``classes``.

    A fold whose training part missed a class gets a zero column for it, so columns always align.
    """
    if task == REGRESSION:
        return np.asarray(pipeline.predict(X), dtype=float)
    proba = np.asarray(pipeline.predict_proba(X), dtype=float)
    fitted = np.asarray(pipeline.classes_)
    if classes is None or (len(fitted) == len(classes) and np.array_equal(fitted, classes)):
        return proba
    aligned = np.zeros((proba.shape[0], len(classes)))
    aligned[:, np.searchsorted(classes, fitted)] = proba
    return aligned
