"""Numbers as people read them in tags, descriptions, summaries and messages: the one formatter.

``fmt`` is used for every number we print or write into a tag or description (the registry's
``steward.metric.*`` tags and descriptions, the gate and ensemble summaries, ``steward run``'s
closing summary), so the same value reads the same everywhere. It sits beside ``names`` and
``exceptions`` (imports nothing) so that every capability and the CLI can use it.
"""

from __future__ import annotations

import math


def fmt(value: float | None, *, signed: bool = False) -> str:
    """``49123.4`` -> ``"49,123"``; ``0.812345`` -> ``"0.8123"``; None -> ``"–"``.

    Values of at least 1,000 get thousands separators and no decimals; smaller ones four
    significant digits.
    """
    if value is None:
        return "–"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    sign = "+" if signed and value > 0 else ""
    if abs(value) >= 1000:
        return f"{sign}{value:,.0f}"
    if value == 0:
        return "0"
    return f"{sign}{value:.4g}"


def fmt_interval(estimate: float | None, low: float | None, high: float | None) -> str:
    """``"49,100 [48,200, 50,100]"`` (the point estimate alone when the interval is unknown)."""
    if low is None or high is None:
        return fmt(estimate)
    return f"{fmt(estimate)} [{fmt(low)}, {fmt(high)}]"


def fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"
