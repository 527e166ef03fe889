"""A model page's monitoring section -> HTML: live-performance and drift charts over the monitor
windows (thinned to what a chart can show) and the table of recent windows. Records come from
``_monitor_source`` through ``_pages``; no data access here."""

from __future__ import annotations

from typing import Sequence

from mlflow_steward.app import _svg as svg
from mlflow_steward.app._html import Links, a, badge, empty, esc, interval, number, table, when
from mlflow_steward.app._records import STATE_HEALTHY, ModelPage, MonitorWindow, Point

NO_MONITOR_RUNS = "no monitor runs yet"
_WINDOWS_LISTED = 20
_MAX_POINTS = 240  # per chart line; more windows are merged (see thin)


def monitoring_section(page: ModelPage, links: Links) -> str:
    """The monitoring section of a model page (or a line saying there are no monitor runs yet)."""
    if not page.windows:
        return empty(NO_MONITOR_RUNS)
    last = page.windows[-1]
    parts = [f'<p>Last window {badge(last.state or "unknown")} ended {esc(when(last.end))} '
             f'(version {esc(last.version or "–")}, {len(page.windows)} windows) · '
             f'{a(links.mlflow_run(last.run_id, last.experiment_id), "run")}</p>']
    parts.append("<h3>Live performance</h3>" + _live_charts(page))
    parts.append("<h3>Input drift</h3>" + _drift_charts(page.windows))
    parts.append("<h3>Recent windows</h3>" + _window_table(page.windows, links))
    return "".join(parts)


def thin(points: Sequence[tuple[float, Point]], limit: int, *, worst: bool) -> list[tuple[float, Point, int]]:
    """At most ``limit`` points for a chart a few hundred pixels wide: consecutive points are merged
    into buckets (the bucket's last time; its largest value when ``worst``, else the mean; the
    widest interval; an alarm if any point alarmed). Returns (time, point, points merged)."""
    if len(points) <= limit:
        return [(t, p, 1) for t, p in points]
    size = -(-len(points) // limit)
    merged = []
    for start in range(0, len(points), size):
        bucket = points[start:start + size]
        values = [p.value for _, p in bucket]
        lows = [p.low for _, p in bucket if p.low is not None]
        highs = [p.high for _, p in bucket if p.high is not None]
        merged.append((bucket[-1][0], Point(
            max(values) if worst else sum(values) / len(values),
            min(lows) if lows else None, max(highs) if highs else None, any(p.alarm for _, p in bucket),
        ), len(bucket)))
    return merged


def _live_charts(page: ModelPage) -> str:
    metrics = sorted({m for w in page.windows for m in w.live})
    if not metrics:
        return empty("no labelled windows yet")
    charts = []
    for metric in metrics:
        points = thin([(w.end, w.live[metric]) for w in page.windows if metric in w.live], _MAX_POINTS, worst=False)
        series = svg.Series(
            name=f"live {metric}", xs=tuple(t for t, _, _ in points), ys=tuple(p.value for _, p, _ in points),
            lows=tuple(p.low for _, p, _ in points), highs=tuple(p.high for _, p, _ in points),
            alarms=tuple(p.alarm for _, p, _ in points),
            labels=_labels(points, metric),
        )
        test = page.test_values.get(metric)
        reference = None if test is None else (test.value, f"test {number(test.value)}")
        charts.append(svg.time_chart([series], title=f"live {metric} with interval (test value dashed)",
                                     reference=reference))
    return '<div class="charts">' + "".join(charts) + "</div>"


def _drift_charts(windows: Sequence[MonitorWindow]) -> str:
    checks: dict[str, set[str]] = {}
    for w in windows:
        for column, check in w.drift:
            checks.setdefault(column, set()).add(check)
    if not checks:
        return empty("no drift scores in these windows")
    shown = {column: ("psi" if "psi" in found else sorted(found)[0]) for column, found in checks.items()}
    raw: dict[str, list[tuple[float, Point]]] = {column: [] for column in shown}
    for w in windows:  # one pass; a column alarms in a window when any of its checks did
        alarmed = {column for (column, _), p in w.drift.items() if p.alarm}
        for column, check in shown.items():
            score = w.drift.get((column, check))
            if score is not None:
                raw[column].append((w.end, Point(score.value, score.low, score.high, column in alarmed)))
    charts = []
    for column in sorted(shown):
        check = shown[column]
        points = thin(raw[column], _MAX_POINTS, worst=True)
        series = svg.Series(
            name=check, xs=tuple(t for t, _, _ in points), ys=tuple(p.value for _, p, _ in points),
            lows=tuple(p.low for _, p, _ in points), highs=tuple(p.high for _, p, _ in points),
            alarms=tuple(p.alarm for _, p, _ in points),
            labels=_labels(points, check),
        )
        charts.append(svg.time_chart([series], title=f"{column}: {check} (alarms in red)", width=360, height=170))
    return '<div class="charts">' + "".join(charts) + "</div>"


def _labels(points: Sequence[tuple[float, Point, int]], what: str) -> tuple[str, ...]:
    """Hover titles for the points that get a dot (all of a short line, else the alarms)."""
    every = len(points) <= svg.DOTS
    return tuple(_point_label(t, p, n, what) if every or p.alarm else "" for t, p, n in points)


def _point_label(end: float, point: Point, merged: int, what: str) -> str:
    if merged == 1:
        return f"{when(end)}: {what} {interval(point)}"
    return f"{merged} windows to {when(end)}: {what} {interval(point)}"


def _window_table(windows: Sequence[MonitorWindow], links: Links) -> str:
    rows = []
    for w in list(reversed(windows))[:_WINDOWS_LISTED]:
        alarms = sorted(f"{c}/{k}" for (c, k), p in w.drift.items() if p.alarm)
        alarms += sorted(f"live {m}" for m, p in w.live.items() if p.alarm)
        rows.append([
            esc(when(w.end)), esc(w.version or "–"),
            badge(w.state or "unknown", None if w.state != STATE_HEALTHY else "healthy"),
            esc(", ".join(alarms) or "–"), esc("–" if w.labels is None else f"{w.labels:,}"),
            a(links.mlflow_run(w.run_id, w.experiment_id), "run"),
        ])
    return table(["window end", "version", "state", "alarms", "labels", ""], rows, css="windows", numeric=(4,))
