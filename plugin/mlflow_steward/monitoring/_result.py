"""``DriftResult``: every check's score with its interval and verdict, per column and overall."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from mlflow_steward.monitoring._config import DriftConfig
    from mlflow_steward.monitoring._profile import Profile

# statuses of a check (and of a column)
DRIFT = "drift"
OK = "ok"
NO_DATA = "no data"
CONSTANT = "constant"
TOO_FEW = "too few rows"
NOT_IN_REFERENCE = "not in reference"
TOO_MANY_CATEGORIES = "too many categories"
TESTED = (DRIFT, OK)

EXIT_HEALTHY = 0
EXIT_DRIFT = 3

#: What each check's score measures (shown in tables and the report).
SCORE_UNITS: Mapping[str, str] = MappingProxyType({
    "missing": "missing share, window - training",
    "mean_shift": "mean change in training std",
    "std_shift": "std ratio - 1",
    "out_of_range": "share outside the training range",
    "new_category": "share of unseen categories, window - training",
    "vanished_category": "training share of categories absent now",
    "distribution": "PSI on training bins (small-window bias removed)",
    "presence": "",
})  # fmt: skip


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one column. ``score`` and its interval ``[low, high]`` are in the check's own unit
    (:data:`SCORE_UNITS`); ``threshold`` is the minimum effect that may alarm; ``p_value`` is the
    test's, ``p_adjusted`` after the correction across all checks. Untested checks (``no data``,
    ``constant``, ``too few rows``, ``too many categories``, ``not in reference``) have None for the
    numbers they lack."""

    column: str
    role: str
    check: str
    status: str
    score: float | None = None
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    reference: float | None = None
    current: float | None = None
    n_reference: int = 0
    n_current: int = 0
    note: str = ""

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    @property
    def alarm(self) -> bool:
        return self.status == DRIFT

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ColumnDrift:
    """A column's checks and its status: ``drift`` if any check alarms, else ``ok`` if any was tested,
    else why none could be (``no data``, ``constant``, ``not in reference``...)."""

    column: str
    role: str
    status: str
    alarms: tuple[str, ...]
    checks: tuple[CheckOutcome, ...]


@dataclass(frozen=True)
class DriftVerdict:
    """The whole check: ``drift`` when any column alarms."""

    drift: bool
    alarms: int
    columns: tuple[str, ...]  # alarming columns, features then outputs
    features: tuple[str, ...]  # alarming feature columns
    outputs: tuple[str, ...]  # alarming model outputs (prediction drift)
    tested: int  # checks tested (the size of the correction's family)
    rows_reference: int
    rows_current: int
    level: float
    correction: str

    @property
    def status(self) -> str:
        return DRIFT if self.drift else "healthy"

    @property
    def exit_code(self) -> int:
        """0 healthy, 3 drift (the CLI's exit code)."""
        return EXIT_DRIFT if self.drift else EXIT_HEALTHY


@dataclass(frozen=True)
class DriftResult:
    """Result of :func:`~mlflow_steward.monitoring.check_drift`.

    ``overall`` (:class:`DriftVerdict`), ``by_column`` (column -> :class:`ColumnDrift`), ``checks``
    (every :class:`CheckOutcome`), ``frame()`` (one row per check), and the two profiles compared.
    """

    overall: DriftVerdict
    checks: tuple[CheckOutcome, ...]
    by_column: Mapping[str, ColumnDrift]
    config: DriftConfig
    reference: Profile
    current: Profile
    model: Mapping[str, str] = field(default_factory=dict)  # name, version, uri when known

    @classmethod
    def assemble(cls, checks: list[CheckOutcome], *, config: DriftConfig, reference: Profile, current: Profile,
                 model: Mapping[str, str] | None = None) -> DriftResult:  # fmt: skip
        grouped: dict[str, list[CheckOutcome]] = {}
        for outcome in checks:
            grouped.setdefault(outcome.column, []).append(outcome)
        by_column = {}
        for column, items in grouped.items():
            alarms = tuple(o.check for o in items if o.alarm)
            if alarms:
                status = DRIFT
            elif any(o.tested for o in items):
                status = OK
            else:
                status = items[0].status
            by_column[column] = ColumnDrift(column, items[0].role, status, alarms, tuple(items))
        alarming = [c for c in by_column.values() if c.status == DRIFT]
        features = tuple(c.column for c in alarming if c.role == "feature")
        outputs = tuple(c.column for c in alarming if c.role != "feature")
        verdict = DriftVerdict(
            drift=bool(alarming), alarms=sum(o.alarm for o in checks), columns=features + outputs,
            features=features, outputs=outputs, tested=sum(o.tested for o in checks),
            rows_reference=reference.rows, rows_current=current.rows, level=config.level, correction=config.correction,
        )  # fmt: skip
        return cls(overall=verdict, checks=tuple(checks), by_column=MappingProxyType(by_column), config=config,
                   reference=reference, current=current, model=MappingProxyType(dict(model or {})))  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """One row per check: column, role, check, status, score, low, high, threshold, p values..."""
        import pandas as pd

        return pd.DataFrame([o.to_dict() for o in self.checks])

    def alarms(self) -> tuple[CheckOutcome, ...]:
        return tuple(o for o in self.checks if o.alarm)

    def summary(self) -> str:
        """One line: verdict, alarming columns and their checks."""
        v = self.overall
        head = f"{v.status}: {v.alarms} alarm(s) in {v.tested} checks on {v.rows_current:,} rows"
        if not v.drift:
            return head
        def listed(columns: tuple[str, ...]) -> str:
            return "; ".join(f"{c} ({', '.join(self.by_column[c].alarms)})" for c in columns)

        text = head
        if v.features:
            text += f"; inputs drifting: {listed(v.features)}"
        if v.outputs:
            text += f"; model outputs drifting: {listed(v.outputs)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        v = self.overall
        return {
            "status": v.status,
            "drift": v.drift,
            "alarms": v.alarms,
            "columns": list(v.columns),
            "features": list(v.features),
            "outputs": list(v.outputs),
            "tested": v.tested,
            "rows_reference": v.rows_reference,
            "rows_current": v.rows_current,
            "model": dict(self.model),
            "config": self.config.to_dict(),
            "units": dict(SCORE_UNITS),
            "by_column": {c: {"role": d.role, "status": d.status, "alarms": list(d.alarms)} for c, d in self.by_column.items()},
            "checks": [o.to_dict() for o in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)
