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


ENSEMBLE_METHODS = ("greedy", "mean", "weighted", "stacking")
_NOT_IN_KEY = ("lock_wait", "lock_ttl", "reuse")


@dataclass(frozen=True)
class RetrainConfig:
    """``steward retrain``: what to retrain on, how to search, when to refresh the test set.

    dataset : the named dataset; its current version is trained and tested on.
    model_name : the registered model (default: the dataset's name).
    cleaning : a :class:`~mlflow_steward.cleaning.CleaningConfig` (or its dict); None: the current
        production model's (its data run's ``cleaning/config.json``), else the defaults.
    strategy, families, n_trials, cv, random_state, storage, study_name, n_jobs, workers : the
        tuning search, as for the main job.
    evaluation, gate : the steward evaluator's and the gate's configuration (dicts).
    ensemble : rebuild an ensemble of the tuned families with this method (None: a single model);
        it goes to the gate only if it beats the best single model.
    warm_start : enqueue the production model's parameters as the first trial.
    max_promotions : promotions one test-set generation may decide; once reached, the retrain
        refreshes the test set first (and a decision on a generation past it carries a warning).
    refresh_min_rows : rows a refreshed test set must have (drawn from batches production never
        trained on); fewer: no refresh, the warning stays.
    min_test_rows : a dataset version with a smaller test set is refused (the gate needs rows).
    lock_wait : seconds to wait for another retrain of the dataset to finish (cron overlaps).
    lock_ttl : seconds the retrain's lease lasts without renewal (renewed every ttl/4 while alive).
    """

    dataset: str
    model_name: str | None = None
    cleaning: Any = None
    strategy: str = "optuna"
    families: tuple[str, ...] | None = None
    n_trials: int = 24
    cv: int = 3
    random_state: int = 42
    storage: str | None = None
    study_name: str | None = None
    n_jobs: int = 1
    workers: int | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    ensemble: str | None = None
    warm_start: bool = True
    max_promotions: int = 3
    refresh_min_rows: int = 200
    min_test_rows: int = 30
    lock_wait: float = 3600.0
    lock_ttl: float = 300.0
    register: bool = True
    reuse: bool = True

    def __post_init__(self) -> None:
        where = "retrain config"
        set_ = object.__setattr__
        if self.model_name is None:
            set_(self, "model_name", self.dataset)
        if self.families is not None:
            set_(self, "families", (self.families,) if isinstance(self.families, str) else tuple(self.families))
        if self.strategy not in ("optuna", "grid"):
            raise StewardInputError(BAD_VALUE.format(where=where, key="strategy", expected="'optuna' or 'grid'",
                                                     value=self.strategy))
        if self.ensemble is not None and self.ensemble not in ENSEMBLE_METHODS:
            raise StewardInputError(BAD_VALUE.format(where=where, key="ensemble",
                                                     expected=" or ".join(ENSEMBLE_METHODS) + " (or None)",
                                                     value=self.ensemble))
        _number(where, "n_trials", self.n_trials, low=1, integer=True)
        _number(where, "cv", self.cv, low=2, integer=True)
        _number(where, "random_state", self.random_state, low=0, integer=True)
        _number(where, "n_jobs", self.n_jobs, low=1, integer=True)
        if self.workers is not None:
            _number(where, "workers", self.workers, low=1, integer=True)
        _number(where, "max_promotions", self.max_promotions, low=1, integer=True)
        _number(where, "refresh_min_rows", self.refresh_min_rows, low=1, integer=True)
        _number(where, "min_test_rows", self.min_test_rows, low=2, integer=True)
        _number(where, "lock_wait", self.lock_wait, low=0.0)
        _number(where, "lock_ttl", self.lock_ttl, low=1.0)
        for key in ("evaluation", "gate"):
            if not isinstance(getattr(self, key), Mapping):
                raise StewardInputError(NOT_MAPPING.format(where=f"{where} {key}", got=type(getattr(self, key)).__name__))
        if isinstance(self.cleaning, Mapping):
            from mlflow_steward.cleaning import CleaningConfig

            set_(self, "cleaning", CleaningConfig.from_dict(dict(self.cleaning)))

    def key_fields(self) -> dict[str, Any]:
        """What decides the result (the retrain key): everything but the lock timings and reuse."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in _NOT_IN_KEY:
                continue
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        return out
