"""The evaluation's slice table: the sliced-metric engine run with the evaluation's settings.

Per slice and metric: size, point value, bootstrap interval (resampled within the slice; for
classification stratified by class, so a rare class stays in every resample), and for metrics that
are means of per-row losses (rmse via squared error, mae, mape, accuracy via 0/1 error, log_loss,
brier) the one-sided Welch test of the slice's losses against the *rest* of the rows, corrected
across slices (Holm or Benjamini-Hochberg); a slice is flagged when the corrected p-value is below
``alpha``. r2, f1 and roc_auc are not means of per-row terms (and r2 is not comparable across
slices with different target variance): their slices get intervals but no test. Slices smaller
than ``min_slice_size`` keep their size and point value but get no interval and no test (status
``too_small``). The computation itself is :func:`~mlflow_steward.evaluation._metric_frame.metric_frame`,
the engine the registry gate and the ensemble comparison use too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._config import EvaluationConfig
from mlflow_steward.evaluation._metric_frame import (
    COLUMNS,
    NOTE_EMPTY,
    NOTE_NO_INTERVAL,
    NOTE_TOO_SMALL,
    NOTE_UNDEFINED,
    STATUS_OK,
    STATUS_TOO_SMALL,
    STATUS_UNDEFINED,
    MetricFrame,
    metric_frame,
    worse_than_rest_p_value,
)
from mlflow_steward.evaluation._metrics import Predictions, row_losses

__all__ = [
    "COLUMNS",
    "NOTE_EMPTY",
    "NOTE_NO_INTERVAL",
    "NOTE_TOO_SMALL",
    "NOTE_UNDEFINED",
    "STATUS_OK",
    "STATUS_TOO_SMALL",
    "STATUS_UNDEFINED",
    "measure",
    "slice_table",
    "worse_than_rest_p_value",
]


def measure(
    preds: Predictions,
    metrics: list[str],
    config: EvaluationConfig,
    masks: dict[tuple[str, str], np.ndarray] | None = None,
) -> MetricFrame:
    """Every metric overall and per slice, with the evaluation's intervals, strata and tests."""
    return metric_frame(
        metrics,
        preds.y_true,
        {m: preds.metric_input(m) for m in metrics},
        masks,
        slices=config.slices,
        n_resamples=config.n_resamples,
        confidence=config.confidence,
        method=config.method,
        random_state=config.random_state,
        strata=preds.strata(),
        stratify_slices=True,
        losses={m: row_losses(m, preds) for m in metrics},
    )


def slice_table(
    preds: Predictions,
    masks: dict[tuple[str, str], np.ndarray],
    metrics: list[str],
    config: EvaluationConfig,
) -> pd.DataFrame:
    """One row per (slice, metric), columns :data:`COLUMNS`."""
    return measure(preds, metrics, config, masks).by_slice
