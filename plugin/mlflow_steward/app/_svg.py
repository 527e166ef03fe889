"""A tiny chart helper: inline SVG strings, no JavaScript, nothing fetched.

Three drawings: a time series (lines, optional interval band, alarm points, a reference line), a
step chart (which version served when) and a forest plot (intervals per row around zero). Every
chart is an ``<svg class="chart">`` with a ``<title>``, so a screen reader and a test can find it.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from html import escape
from typing import Sequence

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
ALARM = "#d62728"
_MARGIN = (46, 12, 26, 34)  # left, right, top, bottom (pixels)
DOTS = 60  # longer lines get dots on their alarm points only


@dataclass(frozen=True)
class Series:
    """One line: x (epoch seconds or plain numbers), y, optional band and alarm flags."""

    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    lows: tuple[float | None, ...] = ()
    highs: tuple[float | None, ...] = ()
    alarms: tuple[bool, ...] = ()
    color: str = ""
    step: bool = False  # hold each value until the next x (the production version over time)
    labels: tuple[str, ...] = field(default=())  # a hover title per point


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (about ``count`` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high == low:
        high, low = high + (abs(high) or 1.0) * 0.5, low - (abs(low) or 1.0) * 0.5
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks and ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def fmt_number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _fmt_time(seconds: float, span: float) -> str:
    moment = _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)
    if span < 2 * 3600:
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d")


class _Frame:
    """Maps data to pixels inside the margins."""

    def __init__(self, width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float]):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = _MARGIN
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (value - self.x0) / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.height - self.bottom - (value - self.y0) / span * (self.height - self.top - self.bottom)


def _open(width: int, height: int, title: str, css: str = "chart") -> list[str]:
    return [
        f'<svg class="{css}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_MARGIN[0]}" y="14" class="chart-title">{escape(title)}</text>',
    ]


def time_chart(
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    reference: tuple[float, str] | None = None,
    time_axis: bool = True,
    y_ticks: Sequence[float] | None = None,
    y_labels: Sequence[str] | None = None,
) -> str:
    """Lines over x (times when ``time_axis``), each with its band and alarm points; a dashed
    horizontal ``reference`` line (value, label). Returns one ``<svg>`` element."""
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys if y is not None and math.isfinite(y)]
    ys += [v for s in series for v in (*s.lows, *s.highs) if v is not None and math.isfinite(v)]
    if reference is not None:
        ys.append(reference[0])
    parts = _open(width, height, title)
    if not xs or not ys:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="chart-empty">no data</text></svg>')
        return "".join(parts)
    ticks = list(y_ticks) if y_ticks is not None else nice_ticks(min(ys), max(ys))
    y_range = (min(ticks[0], min(ys)), max(ticks[-1], max(ys))) if ticks else (min(ys), max(ys))
    x_range = (min(xs), max(xs))
    if x_range[0] == x_range[1]:
        x_range = (x_range[0] - 1, x_range[1] + 1)
    frame = _Frame(width, height, x_range, y_range)
    parts += _axes(frame, ticks, y_labels, time_axis)
    for index, s in enumerate(series):
        color = s.color or PALETTE[index % len(PALETTE)]
        parts += _band(frame, s, color)
        parts += _line(frame, s, color)
    if reference is not None:
        y = frame.y(reference[0])
        parts.append(
            f'<line x1="{frame.left}" x2="{width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" class="reference"/>'
            f'<text x="{width - frame.right - 2}" y="{y - 3:.1f}" text-anchor="end" class="reference-label">'
            f"{escape(reference[1])}</text>"
        )
    if len(series) > 1:
        parts += _legend(frame, series)
    parts.append("</svg>")
    return "".join(parts)


def _axes(frame: _Frame, ticks: Sequence[float], labels: Sequence[str] | None, time_axis: bool) -> list[str]:
    out = [
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{frame.height - frame.bottom}" class="axis"/>',
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{frame.height - frame.bottom}" '
        f'y2="{frame.height - frame.bottom}" class="axis"/>',
    ]
    for i, tick in enumerate(ticks):
        y = frame.y(tick)
        label = labels[i] if labels is not None and i < len(labels) else fmt_number(tick)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{frame.left - 4}" y="{y + 3:.1f}" text-anchor="end" class="tick">{escape(label)}</text>'
        )
    span = frame.x1 - frame.x0
    for i in range(5):
        value = frame.x0 + span * i / 4
        x = frame.x(value)
        text = _fmt_time(value, span) if time_axis else fmt_number(value)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(
            f'<text x="{x:.1f}" y="{frame.height - frame.bottom + 14}" text-anchor="{anchor}" class="tick">'
            f"{escape(text)}</text>"
        )
    return out


def _band(frame: _Frame, s: Series, color: str) -> list[str]:
    points = [
        (x, lo, hi) for x, lo, hi in zip(s.xs, s.lows, s.highs)
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
    ]
    if len(points) < 2:
        return [
            f'<line x1="{frame.x(x):.1f}" x2="{frame.x(x):.1f}" y1="{frame.y(lo):.1f}" y2="{frame.y(hi):.1f}" '
            f'stroke="{color}" class="whisker"/>' for x, lo, hi in points
        ]
    upper = " ".join(f"{frame.x(x):.1f},{frame.y(hi):.1f}" for x, _, hi in points)
    lower = " ".join(f"{frame.x(x):.1f},{frame.y(lo):.1f}" for x, lo, _ in reversed(points))
    return [f'<polygon points="{upper} {lower}" fill="{color}" class="band"/>']


def _line(frame: _Frame, s: Series, color: str) -> list[str]:
    pts = [(x, y) for x, y in zip(s.xs, s.ys) if y is not None and math.isfinite(y)]
    if not pts:
        return []
    coords: list[str] = []
    for i, (x, y) in enumerate(pts):
        if s.step and i > 0:
            coords.append(f"{frame.x(x):.1f},{frame.y(pts[i - 1][1]):.1f}")
        coords.append(f"{frame.x(x):.1f},{frame.y(y):.1f}")
    if s.step:
        coords.append(f"{frame.width - frame.right:.1f},{frame.y(pts[-1][1]):.1f}")
    out = [f'<polyline points="{" ".join(coords)}" fill="none" stroke="{color}" class="line"/>']
    alarms = s.alarms or (False,) * len(s.xs)
    labels = s.labels or ("",) * len(s.xs)
    every = len(pts) <= DOTS  # a dot (with its hover title) on every point of short lines only
    for (x, y), alarm, label in zip(pts, alarms, labels):
        if not (every or alarm):
            continue
        fill = ALARM if alarm else color
        css = "point alarm" if alarm else "point"
        hover = f"<title>{escape(label)}</title>" if label else ""
        out.append(f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="{3.2 if alarm else 2.2}" '
                   f'fill="{fill}" class="{css}">{hover}</circle>')
    return out


def _legend(frame: _Frame, series: Sequence[Series]) -> list[str]:
    out, x = [], frame.left + 4
    for index, s in enumerate(series):
        color = s.color or PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{frame.top + 2}" width="10" height="3" fill="{color}"/>'
                   f'<text x="{x + 13}" y="{frame.top + 7}" class="legend">{escape(s.name)}</text>')
        x += 20 + 7 * len(s.name)
    return out


def forest_chart(
    labels: Sequence[str], estimates: Sequence[float], lows: Sequence[float], highs: Sequence[float],
    worse: Sequence[bool], *, margin: float, metric: str, width: int = 640,
) -> str:
    """One horizontal interval per row (red when it decided against the challenger), the zero line
    and the dashed margin line; x is challenger - champion."""
    n = len(labels)
    label_width = min(260, 14 + 6 * max((len(s) for s in labels), default=4))
    row = 18
    height = 30 + row * n + 30
    title = f"{metric}: challenger - champion (paired bootstrap intervals)"
    values = [*lows, *highs, 0.0, margin]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1.0
    ticks = nice_ticks(low - pad, high + pad)
    left = label_width
    plot_right = width - 34  # room for the last tick's label
    span = (ticks[-1] - ticks[0]) or 1.0

    def px(value: float) -> float:
        return left + (value - ticks[0]) / span * (plot_right - left)

    parts = _open(width, height, title, css="chart forest")
    bottom = 24 + row * n
    for tick in ticks:
        x = px(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="24" y2="{bottom}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" class="tick">{escape(fmt_number(tick))}</text>')
    parts.append(f'<line x1="{px(0):.1f}" x2="{px(0):.1f}" y1="22" y2="{bottom}" class="zero"/>')
    if margin:
        parts.append(f'<line x1="{px(margin):.1f}" x2="{px(margin):.1f}" y1="22" y2="{bottom}" class="reference"/>'
                     f'<text x="{px(margin) + 3:.1f}" y="{bottom + 26}" class="reference-label">margin</text>')
    for i, (label, est, lo, hi, bad) in enumerate(zip(labels, estimates, lows, highs, worse)):
        y = 24 + row * i + row / 2
        color = ALARM if bad else PALETTE[0]
        css = "interval worse" if bad else "interval"
        parts.append(
            f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end" class="tick">{escape(label)}</text>'
            f'<line x1="{px(lo):.1f}" x2="{px(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" class="{css}"/>'
            f'<circle cx="{px(est):.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(label)}: '
            f"{escape(fmt_number(est))} [{escape(fmt_number(lo))}, {escape(fmt_number(hi))}]</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
