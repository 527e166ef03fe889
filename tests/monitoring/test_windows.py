"""Monitor windows: aligned to the epoch and complete only (the same windows on every cron run),
--since/--until, and the errors that name the option."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import parse_window, plan_windows

NOW = datetime(2026, 1, 10, 5, 30, tzinfo=timezone.utc)


def _spans(windows) -> list[str]:
    return [w.describe() for w in windows]


def test_durations():
    assert parse_window("1d") == timedelta(days=1) and parse_window("90m") == timedelta(minutes=90)
    assert parse_window(" 2W ") == timedelta(weeks=2) and parse_window("0.5h") == timedelta(minutes=30)
    for bad in ("", "d", "1y", "0h", "-1d", None):
        with pytest.raises(StewardInputError, match="--window"):
            parse_window(bad)


def test_cron_windows_are_aligned_and_complete_and_stable_within_the_day():
    first = plan_windows("1d", now=NOW, lookback=3)
    assert _spans(first) == ["2026-01-07 .. 2026-01-08", "2026-01-08 .. 2026-01-09", "2026-01-09 .. 2026-01-10"]
    assert plan_windows("1d", now=NOW + timedelta(hours=18), lookback=3) == first  # same windows all day
    assert plan_windows("1d", now=NOW + timedelta(days=1), lookback=3)[-1].describe() == "2026-01-10 .. 2026-01-11"


def test_since_and_until():
    assert _spans(plan_windows("1h", since="2026-01-10T01:15", now=NOW)) == [
        "2026-01-10 01:15:00 .. 2026-01-10 02:15:00", "2026-01-10 02:15:00 .. 2026-01-10 03:15:00",
        "2026-01-10 03:15:00 .. 2026-01-10 04:15:00", "2026-01-10 04:15:00 .. 2026-01-10 05:15:00",
    ]  # complete windows only  # fmt: skip
    assert _spans(plan_windows("1d", since="2026-01-10T01:15", until="2026-01-10T02:00", now=NOW)) == [
        "2026-01-10 01:15:00 .. 2026-01-10 02:00:00"
    ]  # an explicit --until ends a shorter last window
    assert _spans(plan_windows("1h", until="2026-01-10T03:30", lookback=2, now=NOW)) == [
        "2026-01-10 02:00:00 .. 2026-01-10 03:00:00", "2026-01-10 03:00:00 .. 2026-01-10 03:30:00"
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2026-01-10", "until": "2026-01-09"}, "is not before --until"),
        ({"since": "2026-01-10T05:00"}, "no complete window of 1d"),
        ({"since": "yesterday-ish"}, "--since: cannot read"),
        ({"since": "2020-01-01", "until": "2026-01-01", "window": "1h"}, "at most 1,000 per run"),
        ({"lookback": 0}, "lookback must be"),
    ],
)
def test_bad_windows_name_the_option(kwargs, message):
    window = kwargs.pop("window", "1d")
    with pytest.raises(StewardInputError, match=message):
        plan_windows(window, now=NOW, **kwargs)
