"""Live performance of one window: the task's metrics on the labelled rows, with bootstrap intervals,
overall and per slice (the evaluation's sliced-metric engine), next to the version's test values.

A metric *alarms* when the window's whole interval lies on the worse side of the test value by
more than the margin (``PerformanceConfig.margin``, relative, or an absolute ``margins`` entry):
for an error metric ``low > test + margin``, for a score ``high < test - margin``. Under
``min_labels`` labelled rows the verdict is "not enough labels": no metric, no alarm. Slices get
their intervals and a ``worse_than_test`` flag (shown, never the window's verdict: many slices,
one family of tests would be needed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.monitoring._labels import as_text
from mlflow_steward.monitoring._monitor_config import PerformanceConfig

OK = "ok"
WORSE = "worse"
NOT_ENOUGH = "not enough labels"
NO_LABELS = "no labels"
NO_TEST_VALUE = "no test value"
UNDEFINED = "undefined"

DEFAULT_METRICS = {"regression": ("rmse", "mae", "r2"), "classification": ("accuracy", "f1", "roc_auc")}
PROBA_METRICS = frozenset({"roc_auc", "log_loss", "brier"})

SLICE_COLUMNS = ["slice_column", "slice_value", "size", "metric", "value", "ci_low", "ci_high", "test_value",
                 "worse_than_test", "note"]  # fmt: skip


@dataclass(frozen=True)
class Baseline:
    """A metric as recorded for the version on its test set (value and interval when known)."""

    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class LiveMetric:
    """One metric of a window: value and interval, the test value, the alarm threshold, the verdict."""

    metric: str
    value: float | None
    low: float | None
    high: float | None
    greater_is_better: bool
    test: Baseline | None
    threshold: float | None  # test -/+ margin: the interval must lie beyond it to alarm
    alarm: bool
    verdict: str  # ok | worse | no test value | undefined
    note: str = ""

    def describe(self) -> str:
        """``rmse 91,200 [88,900, 93,500] vs test 49,100 (alarm above 51,555): worse``."""
        from mlflow_steward._format import fmt, fmt_interval

        if self.value is None:
            return f"{self.metric}: {self.verdict}" + (f" ({self.note})" if self.note else "")
        text = f"{self.metric} {fmt_interval(self.value, self.low, self.high)}"
        if self.test is not None:
            text += f" vs test {fmt_interval(self.test.value, self.test.low, self.test.high)}"
            if self.threshold is not None:
                text += f" (alarm {'below' if self.greater_is_better else 'above'} {fmt(self.threshold)})"
        return f"{text}: {self.verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "value": _finite(self.value), "ci_low": _finite(self.low),
            "ci_high": _finite(self.high), "greater_is_better": self.greater_is_better,
            "test_value": None if self.test is None else _finite(self.test.value),
            "test_ci_low": None if self.test is None else _finite(self.test.low),
            "test_ci_high": None if self.test is None else _finite(self.test.high),
            "threshold": _finite(self.threshold), "alarm": self.alarm, "verdict": self.verdict, "note": self.note,
        }  # fmt: skip


@dataclass(frozen=True)
class LivePerformance:
    """Live performance of a window: ``status``, ``overall`` (one :class:`LiveMetric` per metric),
    ``by_slice`` (table :data:`SLICE_COLUMNS`), and the labelled rows behind it."""

    status: str  # ok | worse | not enough labels | no labels
    n_labels: int
    n_rows: int
    overall: tuple[LiveMetric, ...] = ()
    by_slice: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SLICE_COLUMNS))
    min_labels: int = 0
    margin: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def alarms(self) -> tuple[LiveMetric, ...]:
        return tuple(m for m in self.overall if m.alarm)

    @property
    def worse(self) -> bool:
        return self.status == WORSE

    def metric(self, name: str) -> LiveMetric | None:
        return next((m for m in self.overall if m.metric == name), None)

    def summary(self) -> str:
        if self.status == NO_LABELS:
            return f"live performance: no labels yet ({self.n_rows:,} rows)"
        if self.status == NOT_ENOUGH:
            return (f"live performance: not enough labels ({self.n_labels:,} labelled of {self.n_rows:,} rows; "
                    f"at least {self.min_labels:,} needed)")  # fmt: skip
        shown = self.alarms or self.overall
        head = "WORSE than test" if self.worse else "ok"
        return f"live performance {head} on {self.n_labels:,} labelled rows: " + "; ".join(m.describe() for m in shown)

    def frame(self) -> pd.DataFrame:
        """Overall rows (``slice_column == "overall"``) then the slice rows."""
        rows = [{"slice_column": "overall", "slice_value": "all", "size": self.n_labels, "metric": m.metric,
                 "value": m.value, "ci_low": m.low, "ci_high": m.high,
                 "test_value": None if m.test is None else m.test.value, "worse_than_test": m.alarm,
                 "note": m.verdict} for m in self.overall]  # fmt: skip
        parts = [pd.DataFrame(rows, columns=SLICE_COLUMNS)]
        if len(self.by_slice):
            parts.append(self.by_slice)
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def to_dict(self) -> dict[str, Any]:
        slices = [{k: (_finite(v) if isinstance(v, float) else v) for k, v in r.items()}
                  for r in self.by_slice.to_dict("records")]  # fmt: skip
        return {"status": self.status, "n_labels": self.n_labels, "n_rows": self.n_rows, "min_labels": self.min_labels,
                "margin": self.margin, "overall": [m.to_dict() for m in self.overall], "by_slice": slices,
                "notes": list(self.notes)}  # fmt: skip


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def greater_is_better(metric: str) -> bool:
    from mlflow_steward.stats import METRICS

    return bool(METRICS[metric].greater_is_better)


def threshold_of(metric: str, test: Baseline, config: PerformanceConfig) -> float:
    """The value the window's interval must lie beyond (worse side) to alarm."""
    margin = config.margin_of(metric, test.value)
    return test.value - margin if greater_is_better(metric) else test.value + margin


def is_worse(metric: str, low: float, high: float, threshold: float) -> bool:
    """The whole interval beyond the threshold, on the worse side."""
    return bool(high < threshold) if greater_is_better(metric) else bool(low > threshold)


def choose_metrics(task: str, config: PerformanceConfig, test_values: Mapping[str, Baseline], *, has_proba: bool) -> list[str]:
    """Configured metrics, else the task's defaults recorded on the version (else all task defaults)."""
    if config.metrics is not None:
        chosen = list(config.metrics)
    else:
        defaults = [m for m in DEFAULT_METRICS[task] if has_proba or m not in PROBA_METRICS]
        recorded = [m for m in defaults if m in test_values]
        chosen = recorded or defaults
    return [m for m in chosen if has_proba or m not in PROBA_METRICS] or (["accuracy"] if task == "classification" else ["rmse"])


@dataclass(frozen=True)
class Encoded:
    """Labels and outputs in the form the metrics take (class codes; positive class last)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: tuple[str, ...]

    def metric_input(self, metric: str) -> np.ndarray:
        return self.proba if metric in PROBA_METRICS else self.y_pred


def encode(task: str, y_true: Any, y_pred: Any, proba: pd.DataFrame | None) -> Encoded:
    """Regression: floats. Classification: codes in the model's class order (the probabilities'
    columns, else the sorted labels); a label the model never predicts gets a code of its own."""
    if task == "regression":
        return Encoded(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float), None, ())
    true_text = [as_text(v) for v in y_true]
    pred_text = [as_text(v) for v in y_pred]
    if proba is not None and proba.shape[1] >= 2:
        classes = tuple(as_text(c) for c in proba.columns)
    else:
        proba = None
        classes = tuple(sorted(set(true_text) | set(pred_text)))
    codes = {c: i for i, c in enumerate(classes)}
    for label in sorted(set(true_text) | set(pred_text)):
        codes.setdefault(label, len(codes))
    matrix = None
    if proba is not None:
        matrix = proba.to_numpy(dtype=float)
        matrix = matrix[:, 1] if len(classes) == 2 else matrix
    return Encoded(np.array([codes[t] for t in true_text]), np.array([codes[p] for p in pred_text]), matrix, classes)


def measure_window(
    task: str,
    y_true: Any,
    y_pred: Any,
    *,
    proba: pd.DataFrame | None = None,
    features: pd.DataFrame | None = None,
    test_values: Mapping[str, Baseline] | None = None,
    config: PerformanceConfig | None = None,
    n_rows: int | None = None,
    categorical: Sequence[str] = (),
) -> LivePerformance:
    """The live performance of the labelled rows of a window (``y_true`` holds their labels only)."""
    from mlflow_steward.evaluation import metric_frame, slice_masks

    config = config or PerformanceConfig()
    test_values = dict(test_values or {})
    n_labels = len(y_true)
    n_rows = n_labels if n_rows is None else n_rows
    common = {"n_labels": n_labels, "n_rows": n_rows, "min_labels": config.min_labels, "margin": config.margin}
    if n_labels == 0:
        return LivePerformance(status=NO_LABELS, **common)
    if n_labels < config.min_labels:
        return LivePerformance(status=NOT_ENOUGH, **common)
    encoded = encode(task, y_true, y_pred, proba)
    metrics = choose_metrics(task, config, test_values, has_proba=encoded.proba is not None)
    masks = None
    notes: list[str] = []
    spec = config.slice_spec(tuple(categorical))
    if features is not None and len(features.columns) and (spec.slice_columns or spec.slice_queries or spec.crosses):
        masks = slice_masks(features.reset_index(drop=True), spec, categorical=list(categorical))
    strata = encoded.y_true if task == "classification" else None
    measured = metric_frame(
        metrics, encoded.y_true, {m: encoded.metric_input(m) for m in metrics}, masks, slices=spec,
        n_resamples=config.n_resamples, confidence=config.confidence, random_state=config.random_state,
        strata=strata, stratify_slices=task == "classification",
    )  # fmt: skip
    overall = []
    for metric in metrics:
        test = test_values.get(metric)
        better_high = greater_is_better(metric)
        if metric not in measured.overall:
            note = measured.undefined.get(metric, "")
            overall.append(LiveMetric(metric, None, None, None, better_high, test, None, False, UNDEFINED, note[:200]))
            continue
        interval = measured.overall[metric]
        threshold = None if test is None else threshold_of(metric, test, config)
        alarm = threshold is not None and is_worse(metric, interval.low, interval.high, threshold)
        verdict = NO_TEST_VALUE if test is None else (WORSE if alarm else OK)
        overall.append(LiveMetric(metric, interval.estimate, interval.low, interval.high, better_high, test, threshold,
                                  alarm, verdict))  # fmt: skip
    if not test_values:
        notes.append("the version records no test metrics: live metrics are shown, never compared")
    by_slice = _slice_table(measured.by_slice, test_values, config)
    status = WORSE if any(m.alarm for m in overall) else OK
    return LivePerformance(status=status, overall=tuple(overall), by_slice=by_slice, notes=tuple(notes), **common)


def _slice_table(table: pd.DataFrame, test_values: Mapping[str, Baseline], config: PerformanceConfig) -> pd.DataFrame:
    if table is None or len(table) == 0:
        return pd.DataFrame(columns=SLICE_COLUMNS)
    rows = []
    for record in table.to_dict("records"):
        test = test_values.get(record["metric"])
        worse = False
        if test is not None and np.isfinite(record["ci_low"]) and np.isfinite(record["ci_high"]):
            worse = is_worse(record["metric"], record["ci_low"], record["ci_high"], threshold_of(record["metric"], test, config))
        rows.append({
            "slice_column": record["slice_column"], "slice_value": record["slice_value"], "size": int(record["size"]),
            "metric": record["metric"], "value": record["value"], "ci_low": record["ci_low"], "ci_high": record["ci_high"],
            "test_value": None if test is None else test.value, "worse_than_test": worse, "note": record["note"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=SLICE_COLUMNS)


def baselines_of(run_metrics: Mapping[str, float], tags: Mapping[str, str] | None = None) -> dict[str, Baseline]:
    """The version's test metrics: its run's ``<metric>``/``_ci_low``/``_ci_high`` (exact), else the
    ``steward.metric.<metric>`` tags written at registration (``"49,100 [48,200, 50,100]"``)."""
    from mlflow_steward import names

    out: dict[str, Baseline] = {}
    for metric in DEFAULT_METRICS["regression"] + DEFAULT_METRICS["classification"] + ("mape", "log_loss", "brier"):
        value = run_metrics.get(metric)
        if value is not None and math.isfinite(value):
            out[metric] = Baseline(float(value), run_metrics.get(names.ci_low(metric)), run_metrics.get(names.ci_high(metric)))
    for key, text in (tags or {}).items():
        if key.startswith(names.TAG_METRIC_PREFIX) and key[len(names.TAG_METRIC_PREFIX):] not in out:
            parsed = parse_metric_text(text)
            if parsed is not None:
                out[key[len(names.TAG_METRIC_PREFIX):]] = parsed
    return out


def parse_metric_text(text: str | None) -> Baseline | None:
    """``"49,100 [48,200, 50,100]"`` -> Baseline(49100, 48200, 50100) (``_format.fmt_interval``'s text)."""
    import re

    number = r"(-?[\d,]*\.?\d+(?:[eE][-+]?\d+)?)"
    match = re.match(rf"^\s*{number}(?:\s*\[\s*{number}\s*,\s*{number}\s*\])?\s*$", text or "")
    if not match:
        return None
    value, low, high = (None if g is None else float(g.replace(",", "")) for g in match.groups())
    return Baseline(value, low, high)  # type: ignore[arg-type]
