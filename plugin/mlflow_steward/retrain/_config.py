"""The ingest and retrain configurations, parsed once into typed dataclasses at the boundary."""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward.exceptions import StewardInputError

ON_FAILURE = ("reject", "quarantine", "allow")

NOT_MAPPING = "{where} must be a JSON object, got {got}"
UNKNOWN_KEY = "{where}: unknown key {key!r}{hint}; valid keys: {valid}"
BAD_VALUE = "{where}: {key} must be {expected}, got {value!r}"


def _hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _from_mapping(cls: type, where: str, data: Mapping[str, Any] | None) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, Mapping):
        raise StewardInputError(NOT_MAPPING.format(where=where, got=type(data).__name__))
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in valid:
            raise StewardInputError(UNKNOWN_KEY.format(where=where, key=key, hint=_hint(key, valid), valid=", ".join(valid)))
    return cls(**data)


def _number(where: str, key: str, value: Any, *, low: float, high: float = math.inf, integer: bool = False,
            open_low: bool = False) -> None:
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if open_low else '>='} {low}" + ("" if high == math.inf else f" and <= {high}")
        raise StewardInputError(BAD_VALUE.format(where=where, key=key, expected=f"{'an integer' if integer else 'a number'} {bound}", value=value))


@dataclass(frozen=True)
class IngestConfig:
    """How a new batch is checked (see :mod:`mlflow_steward.retrain._checks`).

    on_failure : ``reject`` (default: nothing stored), ``quarantine`` (stored, not current) or
        ``allow`` (stored and current, the failed checks recorded).
    level : significance level of each family of tests (drift checks after Holm correction; the
        label-given-features test).
    min_loss_increase : the batch's mean reference-model loss must exceed the current test rows'
        by this fraction (0.25: 25%) for ``label_given_features`` to fail.
    drift : monitoring's :class:`~mlflow_steward.monitoring.DriftConfig` fields for the
        distribution checks (minimum effects, correction...).
    max_outlier_share : ``outliers`` fails when more than this share of a column's batch values
        lie outside the current version's range (and monitoring's out-of-range check alarms).
    max_reference_rows : rows of the current version sampled for the reference profile and model.
    min_rows : fewer rows than this on either side: the model check is skipped.
    lock_wait : seconds to wait for the dataset's lock.
    """

    on_failure: str = "reject"
    level: float = 0.01
    min_loss_increase: float = 0.25
    drift: dict[str, Any] = field(default_factory=dict)
    max_outlier_share: float = 0.05
    max_reference_rows: int = 50_000
    min_rows: int = 30
    random_state: int = 0
    lock_wait: float = 60.0

    def __post_init__(self) -> None:
        where = "ingest config"
        if self.on_failure not in ON_FAILURE:
            raise StewardInputError(BAD_VALUE.format(where=where, key="on_failure", expected=" or ".join(ON_FAILURE),
                                                     value=self.on_failure))
        _number(where, "level", self.level, low=0.0, high=0.5, open_low=True)
        _number(where, "min_loss_increase", self.min_loss_increase, low=0.0)
        _number(where, "max_outlier_share", self.max_outlier_share, low=0.0, high=1.0)
        _number(where, "max_reference_rows", self.max_reference_rows, low=100, integer=True)
        _number(where, "min_rows", self.min_rows, low=2, integer=True)
        _number(where, "random_state", self.random_state, low=0, integer=True)
        _number(where, "lock_wait", self.lock_wait, low=0.0)
        if not isinstance(self.drift, Mapping):
            raise StewardInputError(NOT_MAPPING.format(where=f"{where} drift", got=type(self.drift).__name__))

    @classmethod
    def coerce(cls, value: IngestConfig | Mapping[str, Any] | None) -> IngestConfig:
        return value if isinstance(value, IngestConfig) else _from_mapping(cls, "ingest config", value)
