"""Result records: an :class:`Interval` around an estimate, and a :class:`PairedResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    """A point estimate and a two-sided confidence interval ``[low, high]``.

    ``method`` names how the interval was computed: ``"t"``, ``"t-sqrt"`` (the RMSE interval),
    ``"percentile"`` or ``"bca"``.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def contains(self, value: float) -> bool:
        """Whether ``low <= value <= high``."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float | str]:
        """The five fields as a plain dict (for JSON)."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "method": self.method,
        }


@dataclass(frozen=True)
class PairedResult:
    """Paired comparison of two models on the same rows.

    ``difference`` is the interval of ``metric(a) - metric(b)``; ``p_value`` is for H0: no
    difference, against ``alternative`` (``"two-sided"``, or ``"greater"``/``"less"``: metric(a)
    above/below metric(b)). ``estimate_a`` / ``estimate_b`` are the two metrics on the full data.
    """

    difference: Interval
    p_value: float
    estimate_a: float = math.nan
    estimate_b: float = math.nan
    n_resamples: int = 0
    alternative: str = "two-sided"

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for JSON)."""
        return {
            "difference": self.difference.to_dict(),
            "p_value": self.p_value,
            "estimate_a": self.estimate_a,
            "estimate_b": self.estimate_b,
            "n_resamples": self.n_resamples,
            "alternative": self.alternative,
        }
