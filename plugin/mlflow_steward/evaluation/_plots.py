"""Plots in two layers: compute a small frozen record (no plotting library), then draw it.

Every ``draw_*`` function builds a standalone :class:`matplotlib.figure.Figure` (no pyplot, so no
global state, no backend switch, nothing to close) and returns it. Matplotlib is imported only
when drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._metrics import Predictions

_COLOR_OK = "#1f77b4"
_COLOR_FLAGGED = "#d62728"
_COLOR_SMALL = "#7f7f7f"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


# --- forest plot of one metric over slices ---------------------------------------------------
@dataclass(frozen=True)
class ForestRecord:
    metric: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    status: tuple[str, ...]
    flagged: tuple[bool, ...]
    sizes: tuple[int, ...]
    overall: float
    overall_low: float
    overall_high: float

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "slice": self.labels,
                "size": self.sizes,
                "status": self.status,
                "value": self.values,
                "ci_low": self.lows,
                "ci_high": self.highs,
                "flagged": self.flagged,
            }
        )


def forest_record(by_slice: pd.DataFrame, overall, metric: str) -> ForestRecord:
    """``overall``: the metric's overall Interval (or None)."""
    rows = by_slice[(by_slice["metric"] == metric) & by_slice["value"].notna()]
    return ForestRecord(
        metric=metric,
        labels=tuple(f"{c}={v}" for c, v in zip(rows["slice_column"], rows["slice_value"])),
        values=tuple(rows["value"].astype(float)),
        lows=tuple(rows["ci_low"].astype(float)),
        highs=tuple(rows["ci_high"].astype(float)),
        status=tuple(rows["status"]),
        flagged=tuple(bool(f) for f in rows["flagged"]),
        sizes=tuple(int(s) for s in rows["size"]),
        overall=np.nan if overall is None else float(overall.estimate),
        overall_low=np.nan if overall is None else float(overall.low),
        overall_high=np.nan if overall is None else float(overall.high),
    )


def draw_forest(record: ForestRecord):
    """Slices top to bottom with interval whiskers; flagged red, too-small hollow grey."""
    n = len(record.labels)
    fig = _figure(8.0, max(2.5, 0.28 * n + 1.2))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    if np.isfinite(record.overall_low):
        ax.axvspan(record.overall_low, record.overall_high, color=_COLOR_OK, alpha=0.12, lw=0)
    if np.isfinite(record.overall):
        ax.axvline(record.overall, color=_COLOR_OK, ls="--", lw=1, label=f"overall {record.metric}")
    for yi, value, low, high, status, flagged in zip(
        y, record.values, record.lows, record.highs, record.status, record.flagged
    ):
        color = _COLOR_FLAGGED if flagged else (_COLOR_SMALL if status != "ok" else _COLOR_OK)
        if np.isfinite(low) and np.isfinite(high):
            ax.plot([low, high], [yi, yi], color=color, lw=1.5)
        face = "none" if status != "ok" else color
        ax.plot([value], [yi], marker="o", ms=5, color=color, markerfacecolor=face)
    ax.set_yticks(y, [f"{label} (n={size})" for label, size in zip(record.labels, record.sizes)], fontsize=7)
    ax.set_xlabel(record.metric)
    ax.set_title(f"{record.metric} by slice (red: significantly worse; hollow: too small)", fontsize=9)
    if np.isfinite(record.overall):
        ax.legend(loc="best", fontsize=7)
    return fig


# --- regression ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResidualRecord:
    y_true: np.ndarray
    y_pred: np.ndarray

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"y_true": self.y_true, "y_pred": self.y_pred, "residual": self.y_true - self.y_pred})


def residual_record(preds: Predictions) -> ResidualRecord:
    return ResidualRecord(preds.y_true.copy(), preds.y_pred.copy())


def draw_predicted_vs_actual(record: ResidualRecord):
    fig = _figure(5.5, 5.0)
    ax = fig.subplots()
    ax.scatter(record.y_true, record.y_pred, s=4, alpha=0.3, color=_COLOR_OK, lw=0)
    low = float(min(record.y_true.min(), record.y_pred.min()))
    high = float(max(record.y_true.max(), record.y_pred.max()))
    ax.plot([low, high], [low, high], color="black", lw=1, ls="--", label="perfect prediction")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted vs actual", fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def draw_residuals(record: ResidualRecord):
    fig = _figure(6.0, 4.0)
    ax = fig.subplots()
    ax.scatter(record.y_pred, record.y_true - record.y_pred, s=4, alpha=0.3, color=_COLOR_OK, lw=0)
    ax.axhline(0.0, color="black", lw=1, ls="--")
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual - predicted")
    ax.set_title("Residuals", fontsize=9)
    return fig


# --- classification ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalibrationRecord:
    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    positive_class: str

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"mean_predicted": self.mean_predicted, "fraction_positive": self.fraction_positive})


def calibration_record(preds: Predictions, n_bins: int = 10) -> CalibrationRecord | None:
    """Binary tasks with probabilities only (None otherwise)."""
    if preds.proba is None or preds.proba.ndim != 1 or len(np.unique(preds.y_true)) < 2:
        return None
    from sklearn.calibration import calibration_curve

    fraction, mean = calibration_curve(preds.y_true == 1, preds.proba, n_bins=n_bins, strategy="quantile")
    return CalibrationRecord(mean, fraction, str(preds.classes[1]))


def draw_calibration(record: CalibrationRecord):
    fig = _figure(5.0, 5.0)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfectly calibrated")
    ax.plot(record.mean_predicted, record.fraction_positive, marker="o", color=_COLOR_OK, label="model")
    ax.set_xlabel(f"mean predicted P({record.positive_class})")
    ax.set_ylabel(f"fraction {record.positive_class}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Calibration (quantile bins)", fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    return fig


@dataclass(frozen=True)
class ConfusionRecord:
    classes: tuple[str, ...]
    matrix: np.ndarray  # rows: actual, columns: predicted

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.matrix, index=list(self.classes), columns=list(self.classes))


def confusion_record(preds: Predictions) -> ConfusionRecord:
    k = int(max(len(preds.classes), preds.y_true.max(initial=0) + 1, preds.y_pred.max(initial=0) + 1))
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (preds.y_true, preds.y_pred), 1)
    names = [str(c) for c in preds.classes] + [f"class {i}" for i in range(len(preds.classes), k)]
    return ConfusionRecord(tuple(names), matrix)


def draw_confusion(record: ConfusionRecord):
    k = len(record.classes)
    fig = _figure(max(4.0, 0.6 * k + 2.5), max(3.5, 0.6 * k + 2.0))
    ax = fig.subplots()
    image = ax.imshow(record.matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    threshold = record.matrix.max() / 2.0 if record.matrix.size else 0
    for i in range(k):
        for j in range(k):
            value = record.matrix[i, j]
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8,
                    color="white" if value > threshold else "black")
    ax.set_xticks(range(k), record.classes, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(k), record.classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("Confusion matrix", fontsize=9)
    return fig


# --- permutation importance ----------------------------------------------------------------------
@dataclass(frozen=True)
class ImportanceRecord:
    features: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    metric: str

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"feature": self.features, "importance_mean": self.means, "importance_std": self.stds})


def importance_record(table: pd.DataFrame) -> ImportanceRecord | None:
    if table is None or table.empty:
        return None
    return ImportanceRecord(
        tuple(str(f) for f in table["feature"]),
        tuple(float(v) for v in table["importance_mean"]),
        tuple(float(v) for v in table["importance_std"]),
        str(table["metric"].iloc[0]),
    )


def draw_importance(record: ImportanceRecord):
    n = len(record.features)
    fig = _figure(6.5, max(2.5, 0.3 * n + 1.2))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    ax.barh(y, record.means, xerr=record.stds, color=_COLOR_OK, alpha=0.8, error_kw={"lw": 1})
    ax.set_yticks(y, record.features, fontsize=7)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(f"worsening of {record.metric} when the column is shuffled")
    ax.set_title("Permutation feature importance", fontsize=9)
    return fig
