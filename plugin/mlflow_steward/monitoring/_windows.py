"""Time windows of ``steward monitor``: ``--window 1d`` cut into consecutive windows, the same ones on
every run, so a job run from cron finds the windows it already checked.

Without ``--since`` the windows are aligned to the epoch (``1d`` = UTC days, ``1h`` = whole hours)
and only complete windows are checked: the newest ``lookback`` windows that ended by ``--until``
(default now). With ``--since`` they start there; an explicit ``--until`` also ends the last one
(which may then be shorter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError

BAD_WINDOW = "--window: expected a duration such as 1d, 6h, 30m or 45s, got {value!r}"
BAD_TIME = "{name}: cannot read {value!r} as a date/time; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z"
EMPTY_RANGE = "--since {since} is not before --until {until}: no window to check"
TOO_MANY = "{count:,} windows of {window} between {since} and {until}; at most {limit:,} per run (use a longer --window)"
NO_COMPLETE = "no complete window of {window} since {since} yet (give --until to check a shorter one)"
BAD_LOOKBACK = "lookback must be a whole number of windows >= 1, got {value!r}"
MAX_WINDOWS = 1000

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC."""

    start: pd.Timestamp
    end: pd.Timestamp

    def key(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def describe(self) -> str:
        return f"{_short(self.start)} .. {_short(self.end)}"


def _short(stamp: pd.Timestamp) -> str:
    text = stamp.strftime("%Y-%m-%d %H:%M:%S")
    return text[:-9] if text.endswith(" 00:00:00") else text


def parse_window(text: Any) -> timedelta:
    """``"1d"``, ``"6h"``, ``"30m"``, ``"45s"``, ``"2w"`` -> a timedelta."""
    match = _DURATION.match(str(text)) if text is not None else None
    if match is None or float(match[1]) <= 0:
        raise StewardInputError(BAD_WINDOW.format(value=text))
    return timedelta(seconds=float(match[1]) * _UNITS[match[2].lower()])


def parse_moment(value: Any, name: str) -> pd.Timestamp | None:
    """A user's date/time (naive means UTC) as a UTC timestamp; None stays None."""
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise StewardInputError(BAD_TIME.format(name=name, value=value)) from None
    if stamp is pd.NaT:
        raise StewardInputError(BAD_TIME.format(name=name, value=value))
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _aligned_down(moment: pd.Timestamp, width: timedelta) -> pd.Timestamp:
    epoch = pd.Timestamp(0, tz="UTC")
    steps = (moment - epoch) // pd.Timedelta(width)
    return epoch + steps * pd.Timedelta(width)


def plan_windows(
    window: timedelta | str,
    *,
    since: Any = None,
    until: Any = None,
    lookback: int = 7,
    now: datetime | None = None,
) -> list[Window]:
    """The windows to check, oldest first (see the module docstring)."""
    width = window if isinstance(window, timedelta) else parse_window(window)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
        raise StewardInputError(BAD_LOOKBACK.format(value=lookback))
    low, high = parse_moment(since, "--since"), parse_moment(until, "--until")
    step = pd.Timedelta(width)
    if high is None:
        current = pd.Timestamp(now or datetime.now(timezone.utc))
        current = current.tz_localize("UTC") if current.tzinfo is None else current.tz_convert("UTC")
        high = _aligned_down(current, width) if low is None else current
        if low is not None:  # only complete windows from --since on
            complete = (high - low) // step
            if complete < 1:
                raise StewardInputError(NO_COMPLETE.format(window=_describe(width), since=low.isoformat()))
            high = low + complete * step
    if low is None:
        low = _aligned_down(high, width) - lookback * step if high == _aligned_down(high, width) else (
            _aligned_down(high, width) - (lookback - 1) * step
        )  # fmt: skip
    if low >= high:
        raise StewardInputError(EMPTY_RANGE.format(since=low.isoformat(), until=high.isoformat()))
    count = -(-(high - low) // step)
    if count > MAX_WINDOWS:
        raise StewardInputError(TOO_MANY.format(count=count, window=_describe(width), since=low.isoformat(),
                                                until=high.isoformat(), limit=MAX_WINDOWS))  # fmt: skip
    windows = []
    start = low
    while start < high:
        end = min(start + step, high)
        windows.append(Window(start, end))
        start = end
    return windows


def _describe(width: timedelta) -> str:
    seconds = width.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def describe_width(width: timedelta) -> str:
    """``timedelta(days=1)`` -> ``"1d"``."""
    return _describe(width)
