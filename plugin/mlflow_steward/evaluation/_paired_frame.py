"""The sliced-metric engine's paired mode: two models on the same rows (see ``_metric_frame``).

``metric(a) - metric(b)`` overall and per slice with the paired bootstrap interval and its
p-value, corrected across the tested slices; the registry gate (challenger against champion) and
the ensemble comparison (the ensemble against each member) call it. It shares the building blocks,
statuses and notes of the one-model engine in ``_metric_frame``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._metric_frame import (
    NOTE_EMPTY,
    NOTE_TOO_SMALL,
    NOTE_UNDEFINED,
    OVERALL_COLUMN,
    OVERALL_VALUE,
    STATUS_OK,
    STATUS_TOO_SMALL,
    STATUS_UNDEFINED,
    Masks,
    adjust_p_values,
    defined_value,
    none_if_nan,
    slice_resamples,
)
from mlflow_steward.evaluation._slice_spec import DEFAULT_SLICES, SliceSpec

#: Columns of :attr:`PairedMetricFrame.by_slice` (one row per slice; ``difference`` = a - b).
PAIRED_COLUMNS = [
    "slice_column",
    "slice_value",
    "size",
    "status",
    "metric",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "significant",
    "note",
]


@dataclass(frozen=True, eq=False)
class PairedMetricFrame:
    """``metric(a) - metric(b)`` overall and per slice (see the module docstring).

    ``overall``: the ``stats.PairedResult`` on all rows (None when the metric is undefined there;
    ``undefined`` says why); ``value_a``/``value_b``: each model's metric on all rows (None when
    undefined). ``by_slice``: one row per slice, columns :data:`PAIRED_COLUMNS`.
    """

    metric: str
    n_rows: int
    value_a: float | None
    value_b: float | None
    overall: Any
    by_slice: pd.DataFrame
    undefined: str = ""
    alternative: str = "two-sided"
    confidence: float = 0.95
    slice_n_resamples: int = 0
    n_tested: int = 0
    slices: SliceSpec = DEFAULT_SLICES

    def rows(self) -> list[dict[str, Any]]:
        """``by_slice`` as dicts, missing numbers as None (NaN never leaks into a report)."""
        out = []
        for record in self.by_slice.to_dict("records"):
            out.append({k: (none_if_nan(v) if isinstance(v, float) else v) for k, v in record.items()})
        return out

    def frame(self) -> pd.DataFrame:
        """The overall row (``slice_column == "overall"``) followed by the slice table."""
        difference = None if self.overall is None else self.overall.difference
        overall_row = {
            "slice_column": OVERALL_COLUMN,
            "slice_value": OVERALL_VALUE,
            "size": self.n_rows,
            "status": STATUS_OK if self.overall is not None else STATUS_UNDEFINED,
            "metric": self.metric,
            "value_a": np.nan if self.value_a is None else self.value_a,
            "value_b": np.nan if self.value_b is None else self.value_b,
            "difference": np.nan if difference is None else difference.estimate,
            "ci_low": np.nan if difference is None else difference.low,
            "ci_high": np.nan if difference is None else difference.high,
            "p_value": np.nan if self.overall is None else self.overall.p_value,
            "p_adjusted": np.nan,
            "significant": False,
            "note": self.undefined,
        }
        parts = [pd.DataFrame([overall_row], columns=PAIRED_COLUMNS)]
        if not self.by_slice.empty:
            parts.append(self.by_slice)
        return pd.concat(parts, ignore_index=True)


def paired_metric_frame(
    metric: str,
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    masks: Masks | None = None,
    *,
    slices: SliceSpec = DEFAULT_SLICES,
    n_resamples: int = 2000,
    slice_n_resamples: int | None = None,
    confidence: float = 0.95,
    method: str = "percentile",
    random_state: int | None = 0,
    strata: np.ndarray | None = None,
    stratify_slices: bool = False,
    alternative: str = "two-sided",
) -> PairedMetricFrame:
    """``metric(a) - metric(b)`` of two models scored on the same rows, overall and per slice.

    ``strata``: one label per row for the overall bootstrap (and each slice's with
    ``stratify_slices``). ``slice_n_resamples``: resamples per slice bootstrap (default:
    :func:`slice_resamples` of the tested slices). ``alternative``: ``"two-sided"``, or
    ``"greater"``/``"less"`` (H1: metric(a) above/below metric(b)) for one-sided p-values.
    """
    from mlflow_steward.stats import StatsInputError, paired_bootstrap

    y_true = np.asarray(y_true)
    masks = masks or {}
    options = {"confidence": confidence, "method": method, "random_state": random_state, "alternative": alternative}
    overall, undefined = None, ""
    try:
        overall = paired_bootstrap(metric, y_true, pred_a, pred_b, n_resamples=n_resamples, strata=strata, **options)
    except (StatsInputError, ValueError) as exc:
        undefined = str(exc)
    n_tested = sum(int(mask.sum()) >= slices.min_slice_size for mask in masks.values())
    if slice_n_resamples is None:
        slice_n_resamples = slice_resamples(n_resamples, n_tested, slices.alpha)

    rows = []
    for (column, value), mask in masks.items():
        size = int(mask.sum())
        y_part, a_part, b_part = y_true[mask], pred_a[mask], pred_b[mask]
        row = {
            "slice_column": column, "slice_value": value, "size": size, "status": STATUS_OK, "metric": metric,
            "value_a": defined_value(metric, y_part, a_part), "value_b": defined_value(metric, y_part, b_part),
            "difference": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "p_adjusted": np.nan,
            "significant": False, "note": "",
        }
        rows.append(row)
        if size < slices.min_slice_size:
            note = NOTE_EMPTY if size == 0 else NOTE_TOO_SMALL.format(min_size=slices.min_slice_size)
            row.update(status=STATUS_TOO_SMALL, note=note)
            continue
        strata_part = strata[mask] if (stratify_slices and strata is not None) else None
        try:
            result = paired_bootstrap(
                metric, y_part, a_part, b_part, n_resamples=slice_n_resamples, strata=strata_part, **options
            )
        except (StatsInputError, ValueError) as exc:
            row.update(status=STATUS_UNDEFINED, note=NOTE_UNDEFINED.format(error=exc))
            continue
        difference = result.difference
        row.update(difference=difference.estimate, ci_low=difference.low, ci_high=difference.high,
                   p_value=float(result.p_value))
    table = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    for key in ("value_a", "value_b"):
        table[key] = table[key].astype(float)
    table["size"] = table["size"].astype(int)
    table["significant"] = table["significant"].astype(bool)
    tested = table["p_value"].notna()
    if tested.any():
        adjusted = adjust_p_values(table.loc[tested, "p_value"].to_numpy(), slices.correction)
        table.loc[tested, "p_adjusted"] = adjusted
        table.loc[tested, "significant"] = adjusted < slices.alpha
    return PairedMetricFrame(
        metric=metric, n_rows=len(y_true), value_a=defined_value(metric, y_true, pred_a),
        value_b=defined_value(metric, y_true, pred_b), overall=overall, by_slice=table, undefined=undefined,
        alternative=alternative, confidence=confidence, slice_n_resamples=slice_n_resamples, n_tested=n_tested,
        slices=slices,
    )
