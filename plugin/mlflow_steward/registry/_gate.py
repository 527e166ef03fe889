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
"""

from __future__ import annotations

import math
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
_MIN_STRATUM = 5
_LISTED = 5


def metric_def(metric: str) -> Any:
    from mlflow_steward.stats import METRICS

    return METRICS[metric]


def point(metric: str, y: np.ndarray, pred: np.ndarray) -> float | None:
    """The metric's value, or None when it is undefined on these rows."""
    from mlflow_steward.stats import StatsInputError

    try:
        value = float(metric_def(metric).fn(y, pred))
    except (StatsInputError, ValueError):
        return None
    return value if np.isfinite(value) else None


def strata_from_masks(masks: Masks, n: int) -> np.ndarray | None:
    """Labels of the first slice column whose slices partition all ``n`` rows (tiny strata merged)."""
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


def _margin(config: GateConfig, champion_value: float | None) -> float:
    if not config.relative:
        return config.margin
    return config.margin * abs(champion_value) if champion_value is not None else 0.0


def _worse_amount(difference: float, greater_is_better: bool) -> float:
    """How much worse the challenger is (positive = worse), in metric units."""
    return -difference if greater_is_better else difference


def slice_resamples(config: GateConfig, n_tested: int) -> int:
    """Resamples per slice bootstrap: at least ``4 m / alpha`` for ``m`` tested slices.

    A bootstrap p-value cannot go below ``2 / (B + 1)``, and Holm (or BH) needs the smallest
    p-value below ``alpha / m``: with ``B = 500`` and 36 slices no slice could ever be significant.
    ``B >= 4 m / alpha`` puts the floor at half that threshold.
    """
    return max(config.n_resamples, math.ceil(4 * max(n_tested, 1) / config.alpha))


def _paired(metric: str, y, new, old, config: GateConfig, strata=None, n_resamples: int | None = None):
    from mlflow_steward.stats import paired_bootstrap

    return paired_bootstrap(
        metric,
        y,
        new,
        old,
        n_resamples=n_resamples or config.n_resamples,
        confidence=config.confidence,
        random_state=config.random_state,
        strata=strata,
    )


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
    from mlflow_steward.stats import StatsInputError, benjamini_hochberg, holm

    greater = bool(metric_def(metric).greater_is_better)
    champion_value = point(metric, y, old)
    challenger_value = point(metric, y, new)
    try:
        result = _paired(metric, y, new, old, config, strata=strata_from_masks(masks, len(y)))
    except (StatsInputError, ValueError) as exc:
        raise StewardGateError(f"the gate metric {metric!r} is undefined on the test set: {exc}") from exc
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
    tested: list[int] = []
    p_values: list[float] = []
    n_slice_resamples = slice_resamples(
        config, sum(int(m.sum()) >= config.min_slice_size for m in masks.values())
    )
    for (column, value), mask in masks.items():
        n = int(mask.sum())
        ys, a, b = y[mask], new[mask], old[mask]
        champ, chall = point(metric, ys, b), point(metric, ys, a)
        if n < config.min_slice_size:
            rows.append(GateRow(column, value, n, chall, champ, verdict=TOO_SMALL))
            continue
        try:
            res = _paired(metric, ys, a, b, config, n_resamples=n_slice_resamples)
        except (StatsInputError, ValueError):
            rows.append(GateRow(column, value, n, chall, champ, verdict=UNDEFINED))
            continue
        tested.append(len(rows))
        p_values.append(float(res.p_value))
        rows.append(GateRow(column, value, n, chall, champ, Estimate.of(res.difference), float(res.p_value),
                            margin=_margin(config, champ)))
    if p_values:
        adjust = holm if config.correction == "holm" else benjamini_hochberg
        adjusted = np.asarray(adjust(np.asarray(p_values)), dtype=float)
        for index, p_adj in zip(tested, adjusted):
            row = rows[index]
            worse_by = _worse_amount(row.difference.estimate, greater)  # type: ignore[union-attr]
            if p_adj < config.alpha and worse_by > (row.margin or 0.0):
                verdict = WORSE
            elif p_adj < config.alpha and worse_by < 0:
                verdict = BETTER
            else:
                verdict = OK
            rows[index] = _replace_row(row, p_adjusted=float(p_adj), verdict=verdict)
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
            f"({method}, alpha {config.alpha:g}; {len(tested)} slices tested, "
            f"{n_slice_resamples:,} resamples each)",
        )
    return [overall_row, *rows], [overall_check, slice_check]


def _margin_text(config: GateConfig) -> str:
    if config.relative:
        return f"{config.margin:.2%} of the champion's value"
    return f"{config.margin:g} in metric units"


def _replace_row(row: GateRow, **changes: Any) -> GateRow:
    from dataclasses import replace

    return replace(row, **changes)


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
    from mlflow_steward.stats import StatsInputError, bootstrap_interval

    strata = strata_from_masks(masks, len(y))
    results: list[ThresholdResult] = []
    for threshold in thresholds:
        try:
            interval = Estimate.of(
                bootstrap_interval(
                    threshold.metric, y, predictions[threshold.metric], method="percentile",
                    n_resamples=config.n_resamples, confidence=config.confidence,
                    random_state=config.random_state, strata=strata,
                )
            )
        except (StatsInputError, ValueError) as exc:
            raise StewardGateError(
                f"threshold metric {threshold.metric!r} is undefined on the test set: {exc}"
            ) from exc
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
