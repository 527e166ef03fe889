"""The gate's result objects: one row per slice, the checks, and the decision that holds them."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mlflow_steward import names

if TYPE_CHECKING:
    import pandas as pd

    from mlflow_steward.registry._config import GateConfig

OVERALL = "overall"

# verdicts of a row
OK = "ok"
WORSE = "worse"
BETTER = "better"
TOO_SMALL = "too small"
UNDEFINED = "undefined"
NOT_COMPARED = "not compared"  # first candidate: no champion


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (a JSON-friendly copy of ``stats.Interval``)."""

    estimate: float
    low: float
    high: float

    @classmethod
    def of(cls, interval: Any) -> Estimate:
        return cls(float(interval.estimate), float(interval.low), float(interval.high))


@dataclass(frozen=True)
class GateRow:
    """One line of the gate table: the whole test set (``column == "overall"``) or one slice."""

    column: str
    value: str
    n: int
    challenger: float | None
    champion: float | None = None
    difference: Estimate | None = None  # metric(challenger) - metric(champion)
    p_value: float | None = None
    p_adjusted: float | None = None
    margin: float | None = None  # the tolerated worsening for this row, in metric units
    verdict: str = OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice": self.column,
            "value": self.value,
            "n": self.n,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": None if self.difference is None else self.difference.estimate,
            "difference_low": None if self.difference is None else self.difference.low,
            "difference_high": None if self.difference is None else self.difference.high,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "margin": self.margin,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Check:
    """One of the conditions the gate requires (overall, slices, signature, thresholds)."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ThresholdResult:
    """A first candidate's absolute requirement and the interval it was judged on."""

    requirement: str  # e.g. "r2 >= 0.5"
    metric: str
    interval: Estimate
    bound: float  # the conservative end that was compared
    passed: bool


@dataclass(frozen=True)
class GateDecision:
    """Everything the gate decided about one challenger, and why.

    ``passed`` is the gate's own verdict; ``verdict`` is what was recorded (``"forced"`` when
    ``force=True`` was used, whatever the gate said); ``promoted`` tells whether the ``production``
    alias moved to this version.
    """

    model_name: str
    version: str
    champion_version: str | None
    task: str
    metric: str
    greater_is_better: bool
    checks: tuple[Check, ...]
    rows: tuple[GateRow, ...]  # the overall row first, then slices
    thresholds: tuple[ThresholdResult, ...] = ()
    n_rows: int = 0
    test_source: str = ""
    config: GateConfig | None = None
    forced: bool = False
    promoted: bool = False
    gate_run_id: str | None = None
    decided_at: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def verdict(self) -> str:
        if self.forced:
            return names.GATE_FORCED
        return names.GATE_PASSED if self.passed else names.GATE_REJECTED

    @property
    def reasons(self) -> list[str]:
        """Why the gate failed (empty when it passed)."""
        return [c.detail for c in self.checks if not c.passed]

    @property
    def overall(self) -> GateRow | None:
        return next((r for r in self.rows if r.column == OVERALL), None)

    @property
    def slices(self) -> tuple[GateRow, ...]:
        return tuple(r for r in self.rows if r.column != OVERALL)

    def summary(self) -> str:
        """One line: verdict and the first reason (or the overall difference)."""
        head = f"{self.verdict}: version {self.version} of {self.model_name!r}"
        if self.forced:
            gate = "passed" if self.passed else "; ".join(self.reasons)
            return f"{head} (force used; the gate {'passed' if self.passed else 'would have rejected: ' + gate})"
        if self.reasons:
            return f"{head}: " + "; ".join(self.reasons)
        return f"{head}: " + "; ".join(c.detail for c in self.checks if c.name in ("overall", "thresholds"))

    def with_outcome(self, *, promoted: bool, gate_run_id: str | None) -> GateDecision:
        return replace(self, promoted=promoted, gate_run_id=gate_run_id)

    def frame(self) -> pd.DataFrame:
        """The gate table as a DataFrame (overall row first)."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``gate/decision.json`` holds."""
        return _clean(
            {
                "model_name": self.model_name,
                "version": self.version,
                "champion_version": self.champion_version,
                "task": self.task,
                "metric": self.metric,
                "greater_is_better": self.greater_is_better,
                "verdict": self.verdict,
                "passed": self.passed,
                "forced": self.forced,
                "promoted": self.promoted,
                "reasons": self.reasons,
                "checks": [c.__dict__ for c in self.checks],
                "thresholds": [
                    {**t.__dict__, "interval": t.interval.__dict__} for t in self.thresholds
                ],
                "rows": [r.to_dict() for r in self.rows],
                "n_rows": self.n_rows,
                "test_source": self.test_source,
                "config": None if self.config is None else self.config.to_dict(),
                "gate_run_id": self.gate_run_id,
                "decided_at": self.decided_at,
            }
        )


def _clean(value: Any) -> Any:
    """NaN/inf become None so the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
