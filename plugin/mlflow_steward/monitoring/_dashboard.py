"""The window's dashboard (``monitoring/dashboard.png``): computed as a record, then drawn.

One figure: each live metric's interval against the test value and the alarm threshold (and the
estimate, for classifiers), the slices of the first metric, and the drift checks with the largest
score relative to their threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from mlflow_steward.monitoring._context import ModelContext
    from mlflow_steward.monitoring._live import WindowCheck

MAX_METRICS = 4
MAX_SLICES = 15
MAX_DRIFT = 12


@dataclass(frozen=True)
class IntervalBar:
    label: str
    value: float
    low: float | None
    high: float | None
    alarm: bool = False
    estimate: bool = False


@dataclass(frozen=True)
class MetricPanel:
    metric: str
    bars: tuple[IntervalBar, ...]  # the window (and the estimate)
    test: float | None
    threshold: float | None


@dataclass(frozen=True)
class DashboardRecord:
    """The numbers behind the dashboard."""

    title: str
    metrics: tuple[MetricPanel, ...]
    slice_metric: str
    slices: tuple[IntervalBar, ...]
    drift: tuple[IntervalBar, ...]  # score / threshold of the strongest checks (1 = the alarm line)
    note: str


def dashboard_record(check: WindowCheck, context: ModelContext) -> DashboardRecord:
    performance, drift = check.performance, check.drift
    panels: list[MetricPanel] = []
    note = ""
    if performance is not None:
        note = performance.summary()
        for m in performance.overall[:MAX_METRICS]:
            if m.value is None:
                continue
            bars = [IntervalBar("window", m.value, m.low, m.high, m.alarm)]
            panels.append(MetricPanel(m.metric, tuple(bars), None if m.test is None else m.test.value, m.threshold))
    estimate = check.estimate
    if estimate is not None and estimate.reported:
        test = context.test_values.get("accuracy")
        bar = IntervalBar("estimate", estimate.value, estimate.low, estimate.high, estimate=True)
        existing = next((p for p in panels if p.metric == "accuracy"), None)
        if existing is not None:
            panels[panels.index(existing)] = MetricPanel("accuracy", existing.bars + (bar,), existing.test, existing.threshold)
        else:
            panels.append(MetricPanel("accuracy", (bar,), None if test is None else test.value, None))
    slices: list[IntervalBar] = []
    slice_metric = panels[0].metric if panels else ""
    if performance is not None and len(performance.by_slice) and slice_metric:
        table = performance.by_slice[performance.by_slice["metric"] == slice_metric]
        table = table[np.isfinite(table["value"].astype(float))]
        for record in table.head(MAX_SLICES).to_dict("records"):
            low, high = record["ci_low"], record["ci_high"]
            slices.append(IntervalBar(f"{record['slice_column']}={record['slice_value']} (n={record['size']})",
                                      float(record["value"]), None if low != low else low, None if high != high else high,
                                      bool(record["worse_than_test"])))  # fmt: skip
    bars: list[IntervalBar] = []
    if drift is not None:
        scored = [o for o in drift.checks if o.score is not None and o.threshold]
        scored.sort(key=lambda o: -abs(o.score / o.threshold))
        for o in scored[:MAX_DRIFT]:
            ratio = abs(o.score / o.threshold)
            low = None if o.low is None else abs(o.low / o.threshold)
            high = None if o.high is None else abs(o.high / o.threshold)
            bars.append(IntervalBar(f"{o.column}: {o.check}", ratio, low, high, o.alarm))
    title = f"{context.ref.describe()} · window {check.window.describe()} · {check.state}"
    return DashboardRecord(title, tuple(panels), slice_metric, tuple(slices), tuple(bars), note)


def _interval_rows(ax, bars: tuple[IntervalBar, ...]) -> None:
    y = np.arange(len(bars))[::-1]
    for position, bar in zip(y, bars):
        color = "#c0392b" if bar.alarm else ("#8e44ad" if bar.estimate else "#2c3e50")
        if bar.low is not None and bar.high is not None:
            ax.plot([bar.low, bar.high], [position, position], color=color, linewidth=2)
        ax.plot([bar.value], [position], "o", color=color)
    ax.set_yticks(y, [b.label for b in bars], fontsize=7)
    ax.set_ylim(-0.7, len(bars) - 0.3)


def draw_dashboard(record: DashboardRecord) -> Figure:
    """Draw ``record``; returns the figure (nothing shown, no global style changed)."""
    from matplotlib.figure import Figure

    n_top = max(1, len(record.metrics))
    figure = Figure(figsize=(max(10.0, 3.2 * n_top), 7.5), layout="constrained")
    grid = figure.add_gridspec(2, max(n_top, 2))
    for i, panel in enumerate(record.metrics):
        ax = figure.add_subplot(grid[0, i])
        _interval_rows(ax, panel.bars)
        if panel.test is not None:
            ax.axvline(panel.test, color="#27ae60", linestyle="--", label="test value")
        if panel.threshold is not None:
            ax.axvline(panel.threshold, color="#c0392b", linestyle=":", label="alarm threshold")
        ax.set_title(f"live {panel.metric}", fontsize=9)
        if panel.test is not None or panel.threshold is not None:
            ax.legend(fontsize=6, loc="best")
    if not record.metrics:
        ax = figure.add_subplot(grid[0, :])
        ax.text(0.5, 0.5, record.note or "no live metrics", ha="center", va="center", fontsize=9, wrap=True)
        ax.set_axis_off()
    half = max(n_top, 2) // 2
    ax = figure.add_subplot(grid[1, :half])
    if record.slices:
        _interval_rows(ax, record.slices)
        test = next((p.test for p in record.metrics if p.metric == record.slice_metric), None)
        if test is not None:
            ax.axvline(test, color="#27ae60", linestyle="--")
        ax.set_title(f"live {record.slice_metric} by slice", fontsize=9)
    else:
        ax.text(0.5, 0.5, "no slices measured", ha="center", va="center", fontsize=9)
        ax.set_axis_off()
    ax = figure.add_subplot(grid[1, half:])
    if record.drift:
        _interval_rows(ax, record.drift)
        ax.axvline(1.0, color="#c0392b", linestyle=":")
        ax.set_title("drift: score / minimum effect (alarm needs > 1 and significance)", fontsize=9)
    else:
        ax.text(0.5, 0.5, "no drift scores", ha="center", va="center", fontsize=9)
        ax.set_axis_off()
    figure.suptitle(record.title, fontsize=10)
    return figure
