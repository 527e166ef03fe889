"""The slice table: size, metric, interval and "significantly worse than the rest" per slice.

Intervals: a bootstrap over the slice's own rows (so a slice never vanishes from a resample; for
classification the resampling is stratified by class, so a rare class stays in every resample).

Flagging: for metrics that are means of per-row losses (rmse via squared error, mae, mape,
accuracy via 0/1 error, log_loss, brier) the slice's losses are compared with the losses of the
*rest* of the rows (its complement: disjoint rows, hence an unpaired test) with Welch's one-sided
t-test (H1: the slice's mean loss is larger). The p-values of one metric are corrected across
slices (Holm or Benjamini-Hochberg); a slice is flagged when the corrected p-value is below
``alpha``. r2, f1 and roc_auc are not means of per-row terms (and r2 is not comparable across
slices with different target variance): their slices get intervals but no test.
Slices smaller than ``min_slice_size`` keep their size and point value but get no interval and
no test (status ``too_small``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._config import EvaluationConfig
from mlflow_steward.evaluation._metrics import Predictions, point_value, row_losses

STATUS_OK = "ok"
STATUS_TOO_SMALL = "too_small"
STATUS_UNDEFINED = "undefined"

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


def _adjust(p_values: np.ndarray, correction: str) -> np.ndarray:
    from mlflow_steward.stats import benjamini_hochberg, holm

    return np.asarray(holm(p_values) if correction == "holm" else benjamini_hochberg(p_values), dtype=float)


def _row(column: str, value: str, size: int, metric: str) -> dict:
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


def slice_table(
    preds: Predictions,
    masks: dict[tuple[str, str], np.ndarray],
    metrics: list[str],
    config: EvaluationConfig,
) -> pd.DataFrame:
    """One row per (slice, metric), columns :data:`COLUMNS`."""
    from mlflow_steward.stats import StatsInputError, bootstrap_interval

    losses = {m: row_losses(m, preds) for m in metrics}
    rows = []
    for (column, value), mask in masks.items():
        size = int(mask.sum())
        part = preds.subset(mask)
        for metric in metrics:
            row = _row(column, value, size, metric)
            rows.append(row)
            if size == 0:
                row.update(status=STATUS_TOO_SMALL, note=NOTE_EMPTY)
                continue
            try:
                row["value"] = point_value(metric, part)
            except (StatsInputError, ValueError) as exc:
                row.update(status=STATUS_UNDEFINED, note=NOTE_UNDEFINED.format(error=exc))
                continue
            if not np.isfinite(row["value"]):  # e.g. sklearn's ROC AUC on one class: nan + warning
                row.update(status=STATUS_UNDEFINED, note=NOTE_UNDEFINED.format(error="not a finite number"))
                continue
            if size < config.min_slice_size:
                row.update(status=STATUS_TOO_SMALL, note=NOTE_TOO_SMALL.format(min_size=config.min_slice_size))
                continue
            try:
                interval = bootstrap_interval(
                    metric,
                    part.y_true,
                    part.metric_input(metric),
                    method=config.method,
                    n_resamples=config.n_resamples,
                    confidence=config.confidence,
                    random_state=config.random_state,
                    strata=part.strata(),
                )
                row.update(ci_low=interval.low, ci_high=interval.high)
            except (StatsInputError, ValueError) as exc:
                row["note"] = NOTE_NO_INTERVAL.format(error=exc)
            if losses[metric] is not None:
                row["p_value"] = worse_than_rest_p_value(losses[metric], mask)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["size"] = table["size"].astype(int)
    table["flagged"] = table["flagged"].astype(bool)
    for metric in metrics:
        rows_of_metric = (table["metric"] == metric) & table["p_value"].notna()
        if rows_of_metric.any():
            adjusted = _adjust(table.loc[rows_of_metric, "p_value"].to_numpy(), config.correction)
            table.loc[rows_of_metric, "p_adjusted"] = adjusted
            table.loc[rows_of_metric, "flagged"] = adjusted < config.alpha
    return table
