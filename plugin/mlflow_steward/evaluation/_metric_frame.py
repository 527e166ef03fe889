"""One sliced-metric engine: metrics overall and per slice, with bootstrap intervals and tests.

Modelled on fairlearn's ``MetricFrame``: one call, one result object (``overall``, ``by_slice``,
intervals, ``frame()``). The engine is row-agnostic: it takes targets, predictions and boolean
slice masks (from :func:`~mlflow_steward.evaluation.slice_masks`), never a model, a run or a file,
so each caller decides which rows are scored. Three callers, one engine:

* the evaluation's report: :func:`metric_frame` (its ``by_slice`` is ``evaluation/slices.csv``);
* the registry gate, challenger against champion: :func:`paired_metric_frame`;
* the ensemble comparison, the ensemble against each member: both, overall only.

**One model** (:func:`metric_frame`). Each metric on all rows with its bootstrap interval, and per
slice its size, point value and interval (the bootstrap resamples the slice's own rows, so a
small slice never drops out of a resample; ``stratify_slices`` keeps the strata, e.g. the classes,
inside each slice). Given per-row ``losses`` (metrics that are means of per-row losses), a slice
is compared with the *rest* of the rows (disjoint rows, hence unpaired) by Welch's one-sided t-test
(H1: the slice's mean loss is larger); the p-values of one metric are corrected across slices and
a slice is *flagged* when its corrected p-value is below ``alpha``. Slices below
``min_slice_size`` rows keep their size and point value, with no interval and no test.

**Two models on the same rows** (:func:`paired_metric_frame`, in ``_paired_frame``, on the building
blocks of this module). ``metric(a) - metric(b)`` overall
and per slice with the paired bootstrap interval (both models on the same resamples, so their
shared row-to-row variation cancels) and its p-value (two-sided, or one-sided with
``alternative``); the p-values of the tested slices are corrected (Holm or Benjamini-Hochberg) and
a slice is *significant* when its corrected p-value is below ``alpha``. A bootstrap p-value cannot
go below ``2 / (B + 1)``, so slice bootstraps use at least ``4 m / alpha`` resamples for ``m``
tested slices (:func:`slice_resamples`): the corrected threshold stays reachable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._slice_spec import DEFAULT_SLICES, SliceSpec

STATUS_OK = "ok"
STATUS_TOO_SMALL = "too_small"
STATUS_UNDEFINED = "undefined"

OVERALL_COLUMN = "overall"
OVERALL_VALUE = "all"

#: Columns of :attr:`MetricFrame.by_slice` (one row per slice and metric).
COLUMNS = [
    "slice_column",
    "slice_value",
    "size",
    "status",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "flagged",
    "note",
]

NOTE_TOO_SMALL = "fewer than min_slice_size={min_size} rows: no interval, not tested"
NOTE_EMPTY = "no row falls in this slice"
NOTE_NO_INTERVAL = "no interval: {error}"
NOTE_UNDEFINED = "metric undefined on this slice: {error}"

_MIN_STRATUM = 5

Masks = Mapping[tuple[str, str], np.ndarray]
PredictionInput = np.ndarray | Mapping[str, np.ndarray]


# --- building blocks ---------------------------------------------------------------------------
def point_value(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``metric`` (a name of :data:`mlflow_steward.stats.METRICS`) of ``y_pred`` against
    ``y_true``; raises ``StatsInputError``/``ValueError`` when undefined on these rows."""
    from mlflow_steward.stats import METRICS

    return float(METRICS[metric].fn(y_true, y_pred))


def defined_value(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """The metric's value, or None when it is undefined (or not finite) on these rows."""
    from mlflow_steward.stats import StatsInputError

    try:
        value = point_value(metric, y_true, y_pred)
    except (StatsInputError, ValueError):
        return None
    return value if np.isfinite(value) else None


def adjust_p_values(p_values: Sequence[float] | np.ndarray, correction: str) -> np.ndarray:
    """Holm (``"holm"``) or Benjamini-Hochberg (``"bh"``) adjusted p-values."""
    from mlflow_steward.stats import benjamini_hochberg, holm

    p = np.asarray(p_values, dtype=float)
    return np.asarray(holm(p) if correction == "holm" else benjamini_hochberg(p), dtype=float)


def slice_resamples(n_resamples: int, n_tested: int, alpha: float) -> int:
    """Resamples per paired slice bootstrap: at least ``4 m / alpha`` for ``m`` tested slices.

    A bootstrap p-value cannot go below ``2 / (B + 1)``, and Holm (or BH) needs the smallest
    p-value below ``alpha / m``: with ``B = 500`` and 36 slices no slice could ever be significant.
    ``B >= 4 m / alpha`` puts the floor at half that threshold.
    """
    return max(n_resamples, math.ceil(4 * max(n_tested, 1) / alpha))


def partition_strata(masks: Masks, n: int) -> np.ndarray | None:
    """Labels of the first slice column whose slices partition all ``n`` rows (strata of fewer than
    5 rows merged into one), for a stratified bootstrap of all rows; None when no column does."""
    columns: dict[str, list[np.ndarray]] = {}
    for (column, _), mask in masks.items():
        columns.setdefault(column, []).append(mask)
    for group in columns.values():
        if len(group) < 2:
            continue
        stacked = np.vstack(group)
        if stacked.shape[1] != n or not np.all(stacked.sum(axis=0) == 1):
            continue
        labels = stacked.argmax(axis=0)
        sizes = np.bincount(labels)
        labels = np.where(sizes[labels] < _MIN_STRATUM, -1, labels)
        if len(np.unique(labels)) > 1:
            return labels
    return None


def worse_than_rest_p_value(losses: np.ndarray, mask: np.ndarray) -> float:
    """One-sided Welch t-test p-value that the slice's mean loss exceeds the rest's."""
    from scipy import stats as sps

    inside, outside = losses[mask], losses[~mask]
    if len(inside) < 2 or len(outside) < 2:
        return float("nan")
    if np.var(inside) == 0.0 and np.var(outside) == 0.0:
        return float("nan")
    result = sps.ttest_ind(inside, outside, equal_var=False, alternative="greater")
    return float(result.pvalue)


def _input_of(y_pred: PredictionInput, metric: str) -> np.ndarray:
    return y_pred[metric] if isinstance(y_pred, Mapping) else y_pred


def none_if_nan(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


# --- one model ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MetricFrame:
    """Metrics of one model overall and per slice (see the module docstring).

    ``overall``: metric -> ``stats.Interval`` (metrics undefined on all rows are in ``undefined``,
    metric -> reason, instead). ``by_slice``: one row per (slice, metric), columns :data:`COLUMNS`.
    """

    metrics: tuple[str, ...]
    n_rows: int
    overall: dict[str, Any]
    by_slice: pd.DataFrame
    undefined: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.95
    method: str = "percentile"
    slices: SliceSpec = DEFAULT_SLICES

    @property
    def flagged(self) -> list[tuple[str, str, str]]:
        """``(slice_column, slice_value, metric)`` of every slice significantly worse than the rest."""
        rows = self.by_slice[self.by_slice["flagged"]]
        return list(zip(rows["slice_column"], rows["slice_value"], rows["metric"]))

    def interval(self, metric: str) -> Any:
        """The overall interval of ``metric``; ``KeyError`` naming the reason when undefined."""
        if metric not in self.overall:
            raise KeyError(f"{metric!r} is undefined on these rows: {self.undefined.get(metric, 'not computed')}")
        return self.overall[metric]

    def frame(self) -> pd.DataFrame:
        """Overall rows (``slice_column == "overall"``) followed by the slice table."""
        return overall_and_slices(self.overall, self.n_rows, self.by_slice)


def overall_and_slices(overall: Mapping[str, Any], n_rows: int, by_slice: pd.DataFrame) -> pd.DataFrame:
    """One table of :data:`COLUMNS`: a row per overall interval (``slice_column == "overall"``),
    then the slice rows."""
    overall_rows = [
        {
            "slice_column": OVERALL_COLUMN,
            "slice_value": OVERALL_VALUE,
            "size": n_rows,
            "status": STATUS_OK,
            "metric": name,
            "value": interval.estimate,
            "ci_low": interval.low,
            "ci_high": interval.high,
            "p_value": np.nan,
            "p_adjusted": np.nan,
            "flagged": False,
            "note": f"{interval.method} interval, confidence {interval.confidence:g}",
        }
        for name, interval in overall.items()
    ]
    parts = [pd.DataFrame(overall_rows, columns=COLUMNS)]
    if not by_slice.empty:
        parts.append(by_slice)
    return pd.concat(parts, ignore_index=True)


def _slice_row(column: str, value: str, size: int, metric: str) -> dict[str, Any]:
    return {
        "slice_column": column,
        "slice_value": value,
        "size": size,
        "status": STATUS_OK,
        "metric": metric,
        "value": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "p_adjusted": np.nan,
        "flagged": False,
        "note": "",
    }


def metric_frame(
    metrics: str | Sequence[str],
    y_true: np.ndarray,
    y_pred: PredictionInput,
    masks: Masks | None = None,
    *,
    slices: SliceSpec = DEFAULT_SLICES,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    method: str = "percentile",
    random_state: int | None = 0,
    strata: np.ndarray | None = None,
    stratify_slices: bool = False,
    losses: Mapping[str, np.ndarray | None] | None = None,
) -> MetricFrame:
    """Each metric of one model on all rows and on every slice (see the module docstring).

    ``y_pred``: one array for every metric, or metric -> array (labels for label metrics,
    probabilities for ``roc_auc``/``log_loss``/``brier``). ``masks``: ``(column, value)`` -> row
    mask (None: overall only). ``slices``: ``min_slice_size``, ``correction`` and ``alpha`` (the
    masks come from its other keys). ``strata``: one label per row; the overall bootstrap resamples
    within strata, and each slice's too when ``stratify_slices``. ``losses``: metric -> per-row
    losses (or None) for the worse-than-the-rest test.
    """
    from mlflow_steward.stats import StatsInputError, bootstrap_interval

    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    y_true = np.asarray(y_true)
    options = {"method": method, "n_resamples": n_resamples, "confidence": confidence, "random_state": random_state}
    overall: dict[str, Any] = {}
    undefined: dict[str, str] = {}
    for metric in metrics:
        try:
            overall[metric] = bootstrap_interval(metric, y_true, _input_of(y_pred, metric), strata=strata, **options)
        except (StatsInputError, ValueError) as exc:
            undefined[metric] = str(exc)

    losses = losses or {}
    rows = []
    for (column, value), mask in (masks or {}).items():
        size = int(mask.sum())
        y_part = y_true[mask]
        strata_part = strata[mask] if (stratify_slices and strata is not None) else None
        for metric in metrics:
            row = _slice_row(column, value, size, metric)
            rows.append(row)
            if size == 0:
                row.update(status=STATUS_TOO_SMALL, note=NOTE_EMPTY)
                continue
            pred_part = _input_of(y_pred, metric)[mask]
            try:
                row["value"] = point_value(metric, y_part, pred_part)
            except (StatsInputError, ValueError) as exc:
                row.update(status=STATUS_UNDEFINED, note=NOTE_UNDEFINED.format(error=exc))
                continue
            if not np.isfinite(row["value"]):  # e.g. sklearn's ROC AUC on one class: nan + warning
                row.update(status=STATUS_UNDEFINED, note=NOTE_UNDEFINED.format(error="not a finite number"))
                continue
            if size < slices.min_slice_size:
                row.update(status=STATUS_TOO_SMALL, note=NOTE_TOO_SMALL.format(min_size=slices.min_slice_size))
                continue
            try:
                interval = bootstrap_interval(metric, y_part, pred_part, strata=strata_part, **options)
                row.update(ci_low=interval.low, ci_high=interval.high)
            except (StatsInputError, ValueError) as exc:
                row["note"] = NOTE_NO_INTERVAL.format(error=exc)
            if losses.get(metric) is not None:
                row["p_value"] = worse_than_rest_p_value(losses[metric], mask)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["size"] = table["size"].astype(int)
    table["flagged"] = table["flagged"].astype(bool)
    for metric in metrics:
        tested = (table["metric"] == metric) & table["p_value"].notna()
        if tested.any():
            adjusted = adjust_p_values(table.loc[tested, "p_value"].to_numpy(), slices.correction)
            table.loc[tested, "p_adjusted"] = adjusted
            table.loc[tested, "flagged"] = adjusted < slices.alpha
    return MetricFrame(
        metrics=metrics, n_rows=len(y_true), overall=overall, by_slice=table, undefined=undefined,
        confidence=confidence, method=method, slices=slices,
    )
