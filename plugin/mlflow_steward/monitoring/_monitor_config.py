"""``MonitorConfig``: what ``steward monitor`` checks and when it alerts, parsed once at the boundary.

One JSON object (``--config``) with three parts, each optional::

    {"drift": {...DriftConfig...},
     "performance": {"metrics": ["rmse"], "margin": 0.05, "min_labels": 100, ...},
     "alerts": {"webhooks": ["https://..."], "cooldown_hours": 24, ...}}

Unknown keys are errors naming the key and the closest valid one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from mlflow_steward.exceptions import StewardInputError, check_scalar, unknown_key_error
from mlflow_steward.monitoring._config import DriftConfig, read_json_config

NOT_MAPPING = "{where} must be a JSON object, got {got}"
BAD_METRICS = "{where} 'metrics' must be a list of metric names, got {value!r}"
UNKNOWN_METRIC = "{where} 'metrics': unknown metric {name!r}; known: {known}"
BAD_MARGINS = "{where} 'margins' must map metric names to numbers >= 0, got {value!r}"
BAD_URL = "{where}: {url!r} is not an http(s) URL"
BAD_SLICES = "{where} 'slices': {error}"

LIVE_METRICS = ("rmse", "mae", "r2", "mape", "accuracy", "f1", "roc_auc", "log_loss", "brier")


def _mapping(where: str, data: Any, valid: list[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise StewardInputError(NOT_MAPPING.format(where=where, got=type(data).__name__))
    for key in data:
        if key not in valid:
            raise unknown_key_error(key, valid, where=where)
    return data


def http_url(url: Any, where: str) -> str:
    parsed = urlparse(str(url))
    if not isinstance(url, str) or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise StewardInputError(BAD_URL.format(where=where, url=url))
    return url


@dataclass(frozen=True)
class PerformanceConfig:
    """Live performance: which metrics, when a window alarms, when it is not judged at all.

    metrics : metric names (None: the task's defaults that the version recorded at registration;
        regression rmse, mae, r2; classification accuracy, f1, roc_auc).
    margin : a window alarms when its interval lies entirely on the worse side of the version's test
        value by more than ``margin`` times the test value (0.05: 5% worse).
    margins : per-metric absolute margins that replace the relative one (``{"accuracy": 0.02}``).
    min_labels : below this many labelled rows the verdict is "not enough labels" (no metric, no alarm).
    confidence, n_resamples, random_state : the bootstrap intervals.
    slices : slice keys of the evaluation (``slice_columns``, ``n_bins``, ``min_slice_size``...);
        default: the categorical inputs.
    estimate : for classifiers, estimate the accuracy from the model's probabilities (shown only when
        the calibration check on the version's test set passes).
    calibration_tolerance : the test set's |accuracy - mean confidence| interval must stay within this.
    calibration_level : the calibration test's (Spiegelhalter) p-value must be at least this.
    """

    metrics: tuple[str, ...] | None = None
    margin: float = 0.05
    margins: Mapping[str, float] = field(default_factory=dict)
    min_labels: int = 100
    confidence: float = 0.95
    n_resamples: int = 1000
    random_state: int = 0
    slices: Mapping[str, Any] | None = None
    estimate: bool = True
    calibration_tolerance: float = 0.03
    calibration_level: float = 0.01

    def __post_init__(self) -> None:
        where = "monitor config performance"
        if self.metrics is not None:
            items = (self.metrics,) if isinstance(self.metrics, str) else self.metrics
            if not isinstance(items, (list, tuple)) or not items or not all(isinstance(m, str) for m in items):
                raise StewardInputError(BAD_METRICS.format(where=where, value=self.metrics))
            for name in items:
                if name not in LIVE_METRICS:
                    raise StewardInputError(UNKNOWN_METRIC.format(where=where, name=name, known=", ".join(LIVE_METRICS)))
            object.__setattr__(self, "metrics", tuple(items))
        object.__setattr__(self, "margin", check_scalar(self.margin, f"{where} 'margin'", float, minimum=0, maximum=10))
        if not isinstance(self.margins, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for k, v in self.margins.items()
        ):
            raise StewardInputError(BAD_MARGINS.format(where=where, value=self.margins))
        object.__setattr__(self, "margins", {k: float(v) for k, v in self.margins.items()})
        check_scalar(self.min_labels, f"{where} 'min_labels'", int, minimum=2)
        object.__setattr__(self, "confidence", check_scalar(self.confidence, f"{where} 'confidence'", float,
                                                            minimum=0.5, maximum=0.9999))  # fmt: skip
        check_scalar(self.n_resamples, f"{where} 'n_resamples'", int, minimum=100, maximum=100_000)
        check_scalar(self.random_state, f"{where} 'random_state'", int, minimum=0)
        check_scalar(self.estimate, f"{where} 'estimate'", bool)
        object.__setattr__(self, "calibration_tolerance", check_scalar(
            self.calibration_tolerance, f"{where} 'calibration_tolerance'", float, minimum=0, maximum=1))  # fmt: skip
        object.__setattr__(self, "calibration_level", check_scalar(
            self.calibration_level, f"{where} 'calibration_level'", float, minimum=0, maximum=0.5))  # fmt: skip
        if self.slices is not None:
            self.slice_spec(())  # parse now: a bad slice key is bad input before anything runs

    def slice_spec(self, categorical: tuple[str, ...]) -> Any:
        """The evaluation's :class:`SliceSpec` of these settings (default columns: ``categorical``)."""
        from mlflow_steward.evaluation import SliceSpec

        data = dict(self.slices or {})
        data.setdefault("slice_columns", list(categorical))
        try:
            return SliceSpec(**data)
        except TypeError as exc:
            raise StewardInputError(BAD_SLICES.format(where="monitor config performance", error=exc)) from None

    def margin_of(self, metric: str, test_value: float) -> float:
        """The absolute margin of ``metric`` around ``test_value``."""
        if metric in self.margins:
            return self.margins[metric]
        return abs(test_value) * self.margin

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PerformanceConfig:
        if data is None:
            return cls()
        return cls(**_mapping("monitor config performance", data, [f.name for f in dataclasses.fields(cls)]))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["metrics"] = None if self.metrics is None else list(self.metrics)
        out["margins"] = dict(self.margins)
        out["slices"] = None if self.slices is None else dict(self.slices)
        return out


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go and how often.

    webhooks : URLs that get each alert as a signed JSON POST (``--webhook`` adds more); the secret
        comes from ``STEWARD_WEBHOOK_SECRET`` (no secret: unsigned).
    cooldown_hours : the same alert is not sent again within this time unless it got worse.
    timeout_s : per attempt. retries : further attempts on a 5xx/429 answer or a connection error,
        waiting ``backoff_s * 2**k`` (or the answer's Retry-After) in between.
    send_resolved : tell the webhooks when a model that alerted is healthy again.
    """

    webhooks: tuple[str, ...] = ()
    cooldown_hours: float = 24.0
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 1.0
    send_resolved: bool = True

    def __post_init__(self) -> None:
        where = "monitor config alerts"
        items = (self.webhooks,) if isinstance(self.webhooks, str) else self.webhooks
        if not isinstance(items, (list, tuple)):
            raise StewardInputError(NOT_MAPPING.format(where=f"{where} 'webhooks'", got=type(items).__name__))
        object.__setattr__(self, "webhooks", tuple(http_url(u, f"{where} 'webhooks'") for u in items))
        object.__setattr__(self, "cooldown_hours", check_scalar(self.cooldown_hours, f"{where} 'cooldown_hours'",
                                                                float, minimum=0))  # fmt: skip
        object.__setattr__(self, "timeout_s", check_scalar(self.timeout_s, f"{where} 'timeout_s'", float,
                                                           minimum=0, include_minimum=False, maximum=600))  # fmt: skip
        check_scalar(self.retries, f"{where} 'retries'", int, minimum=0, maximum=10)
        object.__setattr__(self, "backoff_s", check_scalar(self.backoff_s, f"{where} 'backoff_s'", float,
                                                           minimum=0, maximum=300))  # fmt: skip
        check_scalar(self.send_resolved, f"{where} 'send_resolved'", bool)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AlertConfig:
        if data is None:
            return cls()
        return cls(**_mapping("monitor config alerts", data, [f.name for f in dataclasses.fields(cls)]))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["webhooks"] = list(self.webhooks)
        return out


@dataclass(frozen=True)
class MonitorConfig:
    """``drift`` (:class:`DriftConfig`), ``performance`` (:class:`PerformanceConfig`), ``alerts``
    (:class:`AlertConfig`)."""

    drift: DriftConfig = field(default_factory=DriftConfig)
    performance: PerformanceConfig = field(default_factory=PerformanceConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MonitorConfig:
        if data is None:
            return cls()
        data = _mapping("monitor config", data, ["drift", "performance", "alerts"])
        return cls(drift=DriftConfig.from_dict(data.get("drift")),
                   performance=PerformanceConfig.from_dict(data.get("performance")),
                   alerts=AlertConfig.from_dict(data.get("alerts")))  # fmt: skip

    @classmethod
    def from_json(cls, text: str | None) -> MonitorConfig:
        """From JSON text, or the path of a JSON file."""
        return cls.from_dict(read_json_config(text, "monitor config"))

    def to_dict(self) -> dict[str, Any]:
        return {"drift": self.drift.to_dict(), "performance": self.performance.to_dict(), "alerts": self.alerts.to_dict()}
