"""The gate's configuration, parsed once into a frozen dataclass; every error names its key."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from mlflow_steward.evaluation._slice_spec import DEFAULT_SLICES, SLICE_FIELDS, SliceSpec, parse_slice_field
from mlflow_steward.exceptions import StewardInputError, check_scalar, unknown_key_error
from mlflow_steward.registry import _messages as msg

TASKS = ("regression", "classification")
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
CLASSIFICATION_METRICS = ("accuracy", "f1", "roc_auc", "log_loss", "brier")

#: The metric compared between challenger and champion when ``GateConfig.metric`` is None.
DEFAULT_METRIC = {"regression": "rmse", "classification": "roc_auc"}

#: What a first candidate (no production model yet) must reach, judged on the conservative bound
#: of its interval: regression, R² whose lower bound is at least 0 (confidently no worse than
#: predicting the test set's mean); classification, ROC AUC whose lower bound is at least 0.5
#: (confidently no worse than chance).
DEFAULT_THRESHOLDS = {"regression": {"r2": ">=0.0"}, "classification": {"roc_auc": ">=0.5"}}

_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*([-+0-9.eE]+|[-+]?inf)\s*$")


@dataclass(frozen=True)
class Threshold:
    """An absolute requirement on one metric, e.g. ``r2 >= 0.5``."""

    metric: str
    op: str  # ">=", ">", "<=", "<"
    value: float

    @property
    def needs_high(self) -> bool:
        """True when the metric must be large (so the interval's *lower* bound is checked)."""
        return self.op in (">=", ">")

    def holds(self, bound: float) -> bool:
        """Whether ``bound`` (the conservative end of the metric's interval) satisfies it."""
        return {
            ">=": bound >= self.value,
            ">": bound > self.value,
            "<=": bound <= self.value,
            "<": bound < self.value,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class GateConfig:
    """How the champion/challenger gate decides. Defaults are documented per field.

    Decision rule (see :func:`mlflow_steward.registry.promote`): with ``d = metric(challenger) -
    metric(champion)`` oriented so that positive means *worse*, the challenger passes overall when
    the upper bound of the paired-bootstrap interval of ``d`` (two-sided, ``confidence``) is at most
    the margin (``margin × |champion metric|`` when ``relative``, else ``margin`` in metric units);
    no slice of at least ``min_slice_size`` rows may be worse with an adjusted p-value (``correction``
    across the tested slices) below ``alpha`` *and* a point difference beyond the same margin; and
    the input signatures must match. Slice bootstraps use at least ``4 m / alpha`` resamples for
    ``m`` tested slices, so that the corrected threshold is reachable (a bootstrap p-value cannot
    go below ``2 / (B + 1)``).
    """

    metric: str | None = None  # None: rmse (regression) / roc_auc (classification)
    margin: float = 0.01  # tolerated worsening; 1 % of the champion's metric by default
    relative: bool = True  # margin as a fraction of |champion metric| (else in metric units)
    confidence: float = 0.95  # two-sided level of every interval
    n_resamples: int = 2000  # bootstrap resamples
    # the slice keys: the same keys, defaults and checks as the evaluation's (evaluation.SliceSpec)
    min_slice_size: int = DEFAULT_SLICES.min_slice_size  # smaller slices are shown but not tested
    correction: str = DEFAULT_SLICES.correction  # "holm" or "bh" (Benjamini-Hochberg) across slices
    alpha: float = DEFAULT_SLICES.alpha  # level of the slice tests after correction
    slice_columns: tuple[str, ...] | None = DEFAULT_SLICES.slice_columns  # None: categorical + binned numeric
    n_bins: int = DEFAULT_SLICES.n_bins  # quantile bins for numeric slice columns
    slice_queries: Mapping[str, str] = field(default_factory=dict)  # name -> pandas query
    crosses: tuple[tuple[str, str], ...] = DEFAULT_SLICES.crosses  # pairs of columns sliced jointly
    thresholds: Mapping[str, str] | None = None  # first candidate; None: DEFAULT_THRESHOLDS[task]
    check_signature: bool = True  # compare input column names and types with production's
    random_state: int | None = 0  # bootstrap seed (None: fresh randomness)
    min_unseen_rows: int = 100  # fewer test rows that neither model trained on: the gate refuses

    def __post_init__(self) -> None:
        _check_metric("metric", self.metric)
        object.__setattr__(self, "margin", check_scalar(self.margin, _key("margin"), float, minimum=0.0))
        check_scalar(self.relative, _key("relative"), bool)
        object.__setattr__(self, "confidence", _unit_interval("confidence", self.confidence))
        check_scalar(self.n_resamples, _key("n_resamples"), int, minimum=100)
        for key in SLICE_FIELDS:  # one parser for the slice keys, shared with the evaluation's config
            object.__setattr__(self, key, parse_slice_field(key, getattr(self, key), error=_slice_error))
        if self.thresholds is not None:
            if not isinstance(self.thresholds, Mapping):
                _bad("thresholds", self.thresholds, "expected a mapping such as {'r2': '>=0.5'}")
            parsed = {str(k): parse_threshold(str(k), v) for k, v in self.thresholds.items()}
            object.__setattr__(self, "thresholds", {k: f"{t.op}{t.value!r}" for k, t in parsed.items()})
        check_scalar(self.check_signature, _key("check_signature"), bool)
        check_scalar(self.random_state, _key("random_state"), int, minimum=0, allow_none=True)
        check_scalar(self.min_unseen_rows, _key("min_unseen_rows"), int, minimum=10)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, source: str = "the gate config") -> GateConfig:
        """Parse a mapping (e.g. from JSON or a pipeline config); unknown keys are an error.

        ``source`` names where the mapping came from in that error (e.g. ``--gate-config``).
        """
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise StewardInputError(msg.CONFIG_NOT_MAPPING.format(type=type(values).__name__))
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise unknown_key_error(key, known, where=source)
        return cls(**dict(values))

    @classmethod
    def coerce(cls, value: GateConfig | Mapping[str, Any] | None) -> GateConfig:
        """Accept a GateConfig, a mapping or None (defaults)."""
        return value if isinstance(value, GateConfig) else cls.from_dict(value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly values of every field."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    @property
    def slices(self) -> SliceSpec:
        """The slice keys as one :class:`~mlflow_steward.evaluation.SliceSpec`."""
        return SliceSpec.of(self)

    def metric_for(self, task: str) -> str:
        """The compared metric for ``task``."""
        return self.metric or DEFAULT_METRIC[task]

    def thresholds_for(self, task: str) -> list[Threshold]:
        """The absolute thresholds a first candidate must meet for ``task``."""
        raw = self.thresholds if self.thresholds is not None else DEFAULT_THRESHOLDS[task]
        return [parse_threshold(k, v) for k, v in raw.items()]


def parse_threshold(metric: str, value: Any) -> Threshold:
    """``("r2", ">=0.5")`` -> Threshold; a bare number means "at least" (or "at most" for a
    lower-is-better metric)."""
    _check_metric(f"thresholds.{metric}", metric)
    if isinstance(value, bool):
        raise StewardInputError(msg.CONFIG_BAD_THRESHOLD.format(metric=metric, value=value))
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise StewardInputError(msg.CONFIG_BAD_THRESHOLD.format(metric=metric, value=value))
        return Threshold(metric, ">=" if _greater_is_better(metric) else "<=", float(value))
    match = _THRESHOLD.match(str(value))
    if match is None:
        raise StewardInputError(msg.CONFIG_BAD_THRESHOLD.format(metric=metric, value=value))
    try:
        number = float(match.group(2))
    except ValueError:
        raise StewardInputError(msg.CONFIG_BAD_THRESHOLD.format(metric=metric, value=value)) from None
    if math.isnan(number):
        raise StewardInputError(msg.CONFIG_BAD_THRESHOLD.format(metric=metric, value=value))
    return Threshold(metric, match.group(1), number)


def _greater_is_better(metric: str) -> bool:
    from mlflow_steward.stats import METRICS

    return bool(METRICS[metric].greater_is_better)


def _check_metric(key: str, metric: str | None) -> None:
    if metric is None:
        return
    from mlflow_steward.stats import METRICS

    if not isinstance(metric, str) or metric not in METRICS:
        raise StewardInputError(
            msg.CONFIG_UNKNOWN_METRIC.format(key=key, metric=metric, expected=", ".join(sorted(METRICS)))
        )


def _bad(key: str, value: Any, problem: str) -> None:
    raise StewardInputError(msg.CONFIG_BAD_VALUE.format(key=key, problem=problem, value=value))


def _slice_error(key: str, value: Any, expected: str) -> StewardInputError:
    """The slice keys' errors, worded like :func:`check_scalar`'s (``gate config 'alpha' must be ...``)."""
    return StewardInputError(f"{_key(key)} must be {expected}, got {value!r}")


def _key(key: str) -> str:
    return f"gate config {key!r}"


def _unit_interval(key: str, value: Any) -> float:
    return check_scalar(value, _key(key), float, minimum=0.0, maximum=1.0, include_minimum=False, include_maximum=False)
