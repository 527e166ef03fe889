"""The metric registry: names, point functions and their resampling kernels.

Every named metric is implemented here in numpy (no scikit-learn), with scikit-learn's
definitions: ``rmse``, ``mae``, ``r2``, ``mape`` (regression); ``accuracy``, ``f1`` (labels;
binary F1 of the positive class, macro F1 beyond two classes), ``roc_auc`` (binary, or
one-vs-rest macro for an (n, k) matrix), ``log_loss`` (probabilities clipped to [eps, 1 - eps]),
``brier`` (binary: mean (p - y)^2; k classes: mean sum_k (p_k - 1[y = k])^2).

The positive class is ``1`` when the labels are a subset of {0, 1} (or booleans), else the greater
of two labels in sorted order: the class ``predict_proba[:, 1]`` belongs to in scikit-learn.
Columns of an (n, k) probability matrix are the sorted classes of ``y_true`` or, for integer
labels, the classes ``0..k-1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._errors import (
    MSG_CLASS_ABSENT,
    MSG_CONSTANT_Y_TRUE,
    MSG_F1_NO_POSITIVE,
    MSG_MAPE_ZERO,
    MSG_METRIC_TYPE,
    MSG_ONE_CLASS,
    MSG_PROBA_RANGE,
    MSG_PROBA_SHAPE,
    MSG_UNKNOWN_METRIC,
    StatsInputError,
)
from ._kernels import AucKernel, CallableKernel, Kernel, MacroAucKernel, MeanKernel
from ._validation import (
    as_float_array,
    as_labels,
    check_min_rows,
    check_same_length,
    encode_labels,
)

_EPS = np.finfo(np.float64).eps


class MetricDef(NamedTuple):
    """A named metric: ``fn(y_true, y_pred) -> float``, its direction, and whether ``y_pred``
    holds probabilities (positive-class column, or an (n, k) matrix) rather than values/labels."""

    fn: Callable[[object, object], float]
    greater_is_better: bool
    needs_proba: bool


# --- regression -------------------------------------------------------------------------------


def _regression(
    y_true: object, y_pred: object, min_rows: int, pred_name: str
) -> tuple[np.ndarray, np.ndarray]:
    yt = as_float_array(y_true, "y_true")
    yp = as_float_array(y_pred, pred_name)
    check_same_length(yp, pred_name, yt.shape[0])
    check_min_rows(yt.shape[0], "y_true", min_rows)
    return yt, yp


def _first(m: np.ndarray) -> np.ndarray:
    return m[:, 0]


def _sqrt_first(m: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(m[:, 0], 0.0))


def _r2(m: np.ndarray) -> np.ndarray:
    var = m[:, 2] - m[:, 1] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, 1.0 - m[:, 0] / var, np.nan)


def _rmse(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    yt, yp = _regression(y_true, y_pred, min_rows, pred_name)
    return MeanKernel("rmse", (yt - yp) ** 2, _sqrt_first)


def _mae(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    yt, yp = _regression(y_true, y_pred, min_rows, pred_name)
    return MeanKernel("mae", np.abs(yt - yp), _first)


def _mape(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    yt, yp = _regression(y_true, y_pred, min_rows, pred_name)
    zeros = int(np.count_nonzero(yt == 0))
    if zeros:
        raise StatsInputError(MSG_MAPE_ZERO.format(count=zeros))
    return MeanKernel("mape", np.abs(yt - yp) / np.abs(yt), _first)


def _r2_kernel(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    yt, yp = _regression(y_true, y_pred, min_rows, pred_name)
    if np.all(yt == yt[0]):
        raise StatsInputError(MSG_CONSTANT_Y_TRUE.format(value=float(yt[0])))
    yc = yt - yt.mean()
    return MeanKernel("r2", np.column_stack([(yt - yp) ** 2, yc, yc**2]), _r2)


# --- labels -----------------------------------------------------------------------------------


def _py(label: object) -> object:
    """A numpy scalar as the Python value (for messages); other objects unchanged."""
    return label.item() if isinstance(label, np.generic) else label


def _is_01(classes: np.ndarray) -> bool:
    return classes.dtype.kind in "biuf" and set(classes.tolist()) <= {0, 1}


def _label_pair(y_true, y_pred, min_rows, pred_name) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yt = as_labels(y_true, "y_true")
    yp = as_labels(y_pred, "y_pred")
    check_same_length(yp, "y_pred", yt.shape[0])
    check_min_rows(yt.shape[0], "y_true", min_rows)
    classes, (ct, cp) = encode_labels((yt, "y_true"), (yp, "y_pred"))
    return classes, ct, cp


def _accuracy(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    _, ct, cp = _label_pair(y_true, y_pred, min_rows, pred_name)
    correct = (ct == cp).astype(np.intp)
    return MeanKernel(
        "accuracy",
        correct.astype(np.float64),
        _first,
        cells=correct,
        cell_values=np.array([[0.0], [1.0]]),
    )


def _f1_binary(m: np.ndarray) -> np.ndarray:
    tp, fp, fn = m[:, 0], m[:, 1], m[:, 2]
    den = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 2 * tp / den, np.nan)


def _f1_macro(k: int) -> Callable[[np.ndarray], np.ndarray]:
    def g(m: np.ndarray) -> np.ndarray:
        tp, pred, true = m[:, :k], m[:, k : 2 * k], m[:, 2 * k :]
        den = pred + true
        present = den > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(present, 2 * tp / den, 0.0)
            return f.sum(axis=1) / present.sum(axis=1)

    return g


def _f1(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    classes, ct, cp = _label_pair(y_true, y_pred, min_rows, pred_name)
    k = classes.shape[0]
    if k > 2:  # macro F1; a row's cell is (true class, predicted class)
        values = np.zeros((k * k, 3 * k))
        for t in range(k):
            for p in range(k):
                row = values[t * k + p]
                row[p] += t == p  # a true positive of class p
                row[k + p] += 1  # predicted p
                row[2 * k + t] += 1  # truly t
        cells = ct * k + cp
        return MeanKernel("f1", values[cells], _f1_macro(k), cells=cells, cell_values=values)
    if _is_01(classes):
        pos_label = 1
        pos_code = int(np.searchsorted(classes, 1)) if 1 in classes.tolist() else -1
    elif k == 2:
        pos_label, pos_code = _py(classes[1]), 1
    else:
        raise StatsInputError(MSG_ONE_CLASS.format(metric="f1", label=_py(classes[0])))
    yt, yp = ct == pos_code, cp == pos_code
    if not (yt.any() or yp.any()):
        raise StatsInputError(MSG_F1_NO_POSITIVE.format(label=pos_label))
    cells = 2 * yt.astype(np.intp) + yp
    # cell 2*truth + prediction -> (tp, fp, fn)
    values = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float64)
    return MeanKernel("f1", values[cells], _f1_binary, cells=cells, cell_values=values)


# --- probabilities ----------------------------------------------------------------------------


def _proba(
    metric, y_true, y_pred, min_rows, pred_name
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(classes of y_true, proba (n,) or (n, k), column code per row or None for binary 1-D).

    For binary data returns (classes, p_positive, positive_bool)."""
    yt = as_labels(y_true, "y_true")
    p = as_float_array(y_pred, pred_name, ndim=(1, 2))
    check_same_length(p, pred_name, yt.shape[0])
    check_min_rows(yt.shape[0], "y_true", min_rows)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    classes, (codes,) = encode_labels((yt, "y_true"))
    k = 1 if p.ndim == 1 else p.shape[1]
    if k <= 2:
        if classes.shape[0] > 2 or (classes.shape[0] < 2 and not _is_01(classes)):
            if classes.shape[0] < 2:
                raise StatsInputError(MSG_ONE_CLASS.format(metric=metric, label=_py(classes[0])))
            raise StatsInputError(
                MSG_PROBA_SHAPE.format(
                    metric=metric, k=k, n_classes=classes.shape[0], classes=classes.tolist()
                )
            )
        positive = yt == 1 if _is_01(classes) else codes == 1
        return classes, (p if k == 1 else p[:, 1]), positive
    if classes.shape[0] == k:
        return classes, p, codes
    if classes.dtype.kind in "iub" and classes.min() >= 0 and classes.max() < k:
        return np.arange(k), p, yt.astype(np.intp)
    raise StatsInputError(
        MSG_PROBA_SHAPE.format(
            metric=metric, k=k, n_classes=classes.shape[0], classes=classes.tolist()
        )
    )


def _check_range(metric: str, p: np.ndarray) -> None:
    outside = int(np.count_nonzero((p < 0) | (p > 1)))
    if outside:
        raise StatsInputError(MSG_PROBA_RANGE.format(metric=metric, count=outside))


def _roc_auc(y_true, y_pred, min_rows=1, pred_name="y_pred") -> AucKernel | MacroAucKernel:
    classes, p, target = _proba("roc_auc", y_true, y_pred, min_rows, pred_name)
    if p.ndim == 1:
        if target.all() or not target.any():
            raise StatsInputError(MSG_ONE_CLASS.format(metric="roc_auc", label=_py(classes[0])))
        return AucKernel("roc_auc", target, p)
    parts = []
    for c in range(p.shape[1]):
        positive = target == c
        if not positive.any():
            raise StatsInputError(MSG_CLASS_ABSENT.format(metric="roc_auc", label=_py(classes[c])))
        parts.append(AucKernel("roc_auc", positive, p[:, c]))
    return MacroAucKernel("roc_auc", parts)


def _log_loss(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    _, p, target = _proba("log_loss", y_true, y_pred, min_rows, pred_name)
    _check_range("log_loss", p)
    p = np.clip(p, _EPS, 1 - _EPS)
    if p.ndim == 1:
        z = -np.where(target, np.log(p), np.log1p(-p))
    else:
        z = -np.log(p[np.arange(p.shape[0]), target])
    return MeanKernel("log_loss", z, _first)


def _brier(y_true, y_pred, min_rows=1, pred_name="y_pred") -> MeanKernel:
    _, p, target = _proba("brier", y_true, y_pred, min_rows, pred_name)
    _check_range("brier", p)
    if p.ndim == 1:
        z = (p - target) ** 2
    else:
        onehot = np.zeros_like(p)
        onehot[np.arange(p.shape[0]), target] = 1.0
        z = ((p - onehot) ** 2).sum(axis=1)
    return MeanKernel("brier", z, _first)


# --- registry ---------------------------------------------------------------------------------

_KERNELS: dict[str, Callable[..., Kernel]] = {
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2_kernel,
    "mape": _mape,
    "accuracy": _accuracy,
    "f1": _f1,
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
    "brier": _brier,
}


def _point(name: str) -> Callable[[object, object], float]:
    build = _KERNELS[name]

    def fn(y_true: object, y_pred: object) -> float:
        return build(y_true, y_pred).estimate()

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"The {name!r} metric of y_pred against y_true (see mlflow_steward.stats)."
    return fn


METRICS: dict[str, MetricDef] = {
    "rmse": MetricDef(_point("rmse"), False, False),
    "mae": MetricDef(_point("mae"), False, False),
    "r2": MetricDef(_point("r2"), True, False),
    "mape": MetricDef(_point("mape"), False, False),
    "accuracy": MetricDef(_point("accuracy"), True, False),
    "f1": MetricDef(_point("f1"), True, False),
    "roc_auc": MetricDef(_point("roc_auc"), True, True),
    "log_loss": MetricDef(_point("log_loss"), False, True),
    "brier": MetricDef(_point("brier"), False, True),
}
"""name -> MetricDef(fn, greater_is_better, needs_proba)."""


def metric_name(metric: object) -> str:
    if isinstance(metric, str):
        return metric
    return getattr(metric, "__name__", type(metric).__name__)


def make_kernel(
    metric: object, y_true: object, y_pred: object, *, min_rows: int, pred_name: str = "y_pred"
) -> Kernel:
    """The kernel of a metric name or callable on this data (inputs validated here)."""
    if isinstance(metric, str):
        build = _KERNELS.get(metric)
        if build is None:
            raise StatsInputError(MSG_UNKNOWN_METRIC.format(name=metric, valid=sorted(METRICS)))
        return build(y_true, y_pred, min_rows, pred_name)
    if not callable(metric):
        raise StatsInputError(MSG_METRIC_TYPE.format(type=type(metric).__name__))
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if yt.ndim != 1:
        as_labels(yt, "y_true")  # raises the 1-D message
    if yt.dtype.kind in "fc" or yt.dtype.kind == "O":
        as_labels(yt, "y_true")
    if yp.dtype.kind in "fc":
        as_float_array(yp, pred_name, ndim=(1, 2))
    elif yp.dtype.kind == "O":
        as_labels(yp.reshape(-1), pred_name)
    check_same_length(yp, pred_name, yt.shape[0])
    check_min_rows(yt.shape[0], "y_true", min_rows)
    return CallableKernel(metric_name(metric), metric, yt, yp)
