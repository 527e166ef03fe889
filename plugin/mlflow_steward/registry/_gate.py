"""The gate's decision logic: pure numpy given the predictions (no MLflow here).

Orientation: ``d = metric(challenger) - metric(champion)``. For a lower-is-better metric (rmse)
worse means ``d > 0``; for a greater-is-better one (roc_auc, r2) worse means ``d < 0``.

* overall: passed when the whole interval of ``d`` stays on the acceptable side of the margin:
  ``high(d) <= margin`` (lower is better) or ``low(d) >= -margin`` (greater is better). The interval
  is the paired bootstrap at ``confidence`` (two-sided), stratified by the first slice column
  that partitions the test set, so the one-sided error rate is ``(1 - confidence) / 2``.
* slices: every slice with at least ``min_slice_size`` rows gets its own paired bootstrap and
  p-value (H0: no difference); p-values are adjusted across those slices (Holm or
  Benjamini-Hochberg). A slice fails the gate when its adjusted p is below ``alpha`` *and* its point
  difference is worse than the slice's margin (relative margins use the champion's slice metric).
* first candidate: each absolute threshold is judged on the conservative end of the challenger's
  bootstrap interval (``>=``: the lower bound, ``<=``: the upper bound).

The numbers (paired intervals, p-values, corrections, resample counts, strata) come from the
evaluation's sliced-metric engine (:func:`~mlflow_steward.evaluation.paired_metric_frame` and
:func:`~mlflow_steward.evaluation.metric_frame`); this module only turns them into verdicts.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from mlflow_steward.exceptions import StewardGateError
from mlflow_steward.registry._config import GateConfig, Threshold
from mlflow_steward.registry._decision import (
    BETTER,
    NOT_COMPARED,
    OK,
    OVERALL,
    TOO_SMALL,
    UNDEFINED,
    WORSE,
    Check,
    Estimate,
    GateRow,
    ThresholdResult,
)
from mlflow_steward.registry._format import fmt, fmt_interval, fmt_p

Masks = Mapping[tuple[str, str], np.ndarray]
_LISTED = 5

# The engine (evaluation._metric_frame) loads pandas: imported on use, so that importing the
# registry stays light.


def strata_from_masks(masks: Masks, n: int) -> np.ndarray | None:
    """Strata of the whole-test-set bootstrap: the first slice column that partitions the rows
    (see :func:`mlflow_steward.evaluation._metric_frame.partition_strata`)."""
    from mlflow_steward.evaluation._metric_frame import partition_strata

    return partition_strata(masks, n)


def metric_def(metric: str) -> Any:
    from mlflow_steward.stats import METRICS

    return METRICS[metric]


def point(metric: str, y: np.ndarray, pred: np.ndarray) -> float | None:
    """The metric's value, or None when it is undefined on these rows."""
    from mlflow_steward.evaluation._metric_frame import defined_value

    return defined_value(metric, y, pred)


def _margin(config: GateConfig, champion_value: float | None) -> float:
    if not config.relative:
        return config.margin
    return config.margin * abs(champion_value) if champion_value is not None else 0.0


def _worse_amount(difference: float, greater_is_better: bool) -> float:
    """How much worse the challenger is (positive = worse), in metric units."""
    return -difference if greater_is_better else difference


def slice_resamples(config: GateConfig, n_tested: int) -> int:
    """Resamples per slice bootstrap: at least ``4 m / alpha`` for ``m`` tested slices (see
    :func:`mlflow_steward.evaluation._metric_frame.slice_resamples`)."""
    from mlflow_steward.evaluation._metric_frame import slice_resamples as engine_slice_resamples

    return engine_slice_resamples(config.n_resamples, n_tested, config.alpha)


def _engine_options(config: GateConfig) -> dict[str, Any]:
    return {"slices": config.slices, "n_resamples": config.n_resamples, "confidence": config.confidence,
            "random_state": config.random_state}


def compare(
    y: np.ndarray,
    new: np.ndarray,
    old: np.ndarray,
    masks: Masks,
    *,
    metric: str,
    config: GateConfig,
) -> tuple[list[GateRow], list[Check]]:
    """Rows (overall first, then slices) and the overall and slice checks, challenger vs champion."""
    from mlflow_steward.evaluation._metric_frame import STATUS_TOO_SMALL, STATUS_UNDEFINED
    from mlflow_steward.evaluation._paired_frame import paired_metric_frame

    greater = bool(metric_def(metric).greater_is_better)
    paired = paired_metric_frame(
        metric, y, new, old, masks, strata=strata_from_masks(masks, len(y)), **_engine_options(config)
    )
    if paired.overall is None:
        raise StewardGateError(f"the gate metric {metric!r} is undefined on the test set: {paired.undefined}")
    result = paired.overall
    champion_value, challenger_value = paired.value_b, paired.value_a
    diff = Estimate.of(result.difference)
    margin = _margin(config, champion_value)
    worst_end = diff.low if greater else diff.high
    overall_ok = _worse_amount(worst_end, greater) <= margin
    overall_row = GateRow(
        OVERALL, "", len(y), challenger_value, champion_value, diff, float(result.p_value), None, margin,
        OK if overall_ok else WORSE,
    )
    level = f"{config.confidence:.0%}"
    side = "lower" if greater else "upper"
    limit = -margin if greater else margin
    overall_check = Check(
        "overall",
        overall_ok,
        f"overall {metric} difference (challenger - champion) {fmt_interval(diff.estimate, diff.low, diff.high)} "
        f"({level}): {side} bound {fmt(worst_end, signed=True)} {'is within' if overall_ok else 'is beyond'} "
        f"the allowed {fmt(limit, signed=True)} ({_margin_text(config)})",
    )

    rows: list[GateRow] = []
    tested = 0
    n_slice_resamples = paired.slice_n_resamples
    for record in paired.rows():
        column, value, n = record["slice_column"], record["slice_value"], int(record["size"])
        chall, champ = record["value_a"], record["value_b"]
        if record["status"] in (STATUS_TOO_SMALL, STATUS_UNDEFINED):
            rows.append(GateRow(column, value, n, chall, champ,
                                verdict=TOO_SMALL if record["status"] == STATUS_TOO_SMALL else UNDEFINED))
            continue
        tested += 1
        difference = Estimate(record["difference"], record["ci_low"], record["ci_high"])
        row_margin = _margin(config, champ)
        worse_by = _worse_amount(difference.estimate, greater)
        if record["significant"] and worse_by > row_margin:
            verdict = WORSE
        elif record["significant"] and worse_by < 0:
            verdict = BETTER
        else:
            verdict = OK
        rows.append(GateRow(column, value, n, chall, champ, difference, record["p_value"],
                            p_adjusted=record["p_adjusted"], margin=row_margin, verdict=verdict))
    worse = [r for r in rows if r.verdict == WORSE]
    method = "Holm" if config.correction == "holm" else "Benjamini-Hochberg"
    if worse:
        listed = ", ".join(
            f"{r.column}={r.value} ({metric} {fmt(r.difference.estimate, signed=True)}, "  # type: ignore[union-attr]
            f"p_adj {fmt_p(r.p_adjusted)}, n={r.n})"
            for r in worse[:_LISTED]
        )
        more = f" and {len(worse) - _LISTED} more" if len(worse) > _LISTED else ""
        slice_check = Check(
            "slices", False,
            f"{len(worse)} slice(s) significantly worse ({method}, alpha {config.alpha:g}): {listed}{more}",
        )
    else:
        slice_check = Check(
            "slices", True,
            f"no slice of at least {config.min_slice_size} rows is significantly worse "
            f"({method}, alpha {config.alpha:g}; {tested} slices tested, "
            f"{n_slice_resamples:,} resamples each)",
        )
    return [overall_row, *rows], [overall_check, slice_check]


def _margin_text(config: GateConfig) -> str:
    if config.relative:
        return f"{config.margin:.2%} of the champion's value"
    return f"{config.margin:g} in metric units"


def first_candidate(
    y: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    masks: Masks,
    *,
    metric: str,
    thresholds: list[Threshold],
    config: GateConfig,
) -> tuple[list[GateRow], list[Check], list[ThresholdResult]]:
    """No production model yet: judge absolute thresholds on the challenger's intervals.

    ``predictions`` maps each metric name (the gate metric and every threshold metric) to the
    challenger's predictions suited to it (labels or probabilities).
    """
    from mlflow_steward.evaluation._metric_frame import metric_frame

    measured = metric_frame(
        [t.metric for t in thresholds], y, predictions, strata=strata_from_masks(masks, len(y)),
        method="percentile", **_engine_options(config),
    )
    results: list[ThresholdResult] = []
    for threshold in thresholds:
        if threshold.metric in measured.undefined:
            raise StewardGateError(
                f"threshold metric {threshold.metric!r} is undefined on the test set: "
                f"{measured.undefined[threshold.metric]}"
            )
        interval = Estimate.of(measured.overall[threshold.metric])
        bound = interval.low if threshold.needs_high else interval.high
        results.append(ThresholdResult(str(threshold), threshold.metric, interval, bound, threshold.holds(bound)))
    failed = [r for r in results if not r.passed]
    level = f"{config.confidence:.0%}"
    describe = "; ".join(
        f"{r.requirement}: {r.metric} {fmt_interval(r.interval.estimate, r.interval.low, r.interval.high)} "
        f"({level}), bound {fmt(r.bound)} {'meets' if r.passed else 'misses'} it"
        for r in results
    )
    check = Check(
        "thresholds", not failed,
        ("first candidate (no production model): " if not failed else "first candidate misses its threshold(s): ")
        + (describe or "no thresholds configured"),
    )
    pred = predictions[metric]
    rows = [GateRow(OVERALL, "", len(y), point(metric, y, pred), verdict=NOT_COMPARED)]
    for (column, value), mask in masks.items():
        n = int(mask.sum())
        rows.append(
            GateRow(column, value, n, point(metric, y[mask], pred[mask]),
                    verdict=TOO_SMALL if n < config.min_slice_size else NOT_COMPARED)
        )
    return rows, [check], results
