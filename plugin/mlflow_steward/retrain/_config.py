"""The ingest and retrain configurations, parsed once into typed dataclasses at the boundary.

Every field is checked on construction, before anything is read or written; mappings (JSON from
the command line) have their unknown keys refused with the closest valid one named. The tuning
fields take their defaults from :class:`~mlflow_steward.tuning.TuneConfig`, so ``steward retrain``
searches like ``steward run`` unless told otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward.exceptions import StewardInputError, check_scalar, closest, unknown_key_error
from mlflow_steward.tuning._config import TuneConfig

ON_FAILURE = ("reject", "quarantine", "allow")
BAD_CHOICE = "{where} {key} must be one of {valid}, got {value!r}{hint}"
NOT_MAPPING = "{where} must be a JSON object (a mapping of its fields), got {type}"


def _from_mapping(cls: type, values: Mapping[str, Any] | None, *, source: str) -> Any:
    if values is None:
        return cls()
    if not isinstance(values, Mapping):
        raise StewardInputError(NOT_MAPPING.format(where=source, type=type(values).__name__))
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            raise unknown_key_error(key, known, where=source)
    return cls(**values)


def _choice(where: str, key: str, value: Any, valid: tuple[str, ...]) -> None:
    if value not in valid:
        match = closest(str(value), valid)
        hint = f"; did you mean {match!r}?" if match else ""
        raise StewardInputError(BAD_CHOICE.format(where=where, key=key, valid=", ".join(valid), value=value, hint=hint))


@dataclass(frozen=True)
class IngestConfig:
    """How a new batch is checked (see :mod:`mlflow_steward.retrain._checks`).

    on_failure : ``reject`` (default: nothing stored), ``quarantine`` (stored, not current) or
        ``allow`` (stored and current, the failed checks recorded).
    level : significance level of each family of tests (monitoring's drift checks, Holm-corrected
        across columns and checks; the label-given-features test).
    min_loss_increase : the batch's mean reference-model loss must exceed the current test rows'
        by this fraction (0.25: 25 %) for ``label_given_features`` to fail.
    drift : monitoring's ``DriftConfig`` fields for the distribution checks (minimum effects...).
    max_outlier_share : ``outliers`` fails when a column's share of batch values outside the
        current version's range exceeds this (and monitoring's out-of-range check alarms).
    max_reference_rows : rows of the current version sampled for the reference profile and model.
    min_rows : fewer rows than this on either side: the label-given-features check is skipped.
    lock_wait : seconds to wait for the dataset's lock.
    """

    on_failure: str = "reject"
    level: float = 0.01
    min_loss_increase: float = 0.25
    drift: Mapping[str, Any] = field(default_factory=dict)
    max_outlier_share: float = 0.05
    max_reference_rows: int = 50_000
    min_rows: int = 30
    random_state: int = 0
    lock_wait: float = 60.0

    def __post_init__(self) -> None:
        where = "ingest config"
        _choice(where, "on_failure", self.on_failure, ON_FAILURE)
        set_ = object.__setattr__
        set_(self, "level", check_scalar(self.level, f"{where} 'level'", float, minimum=0, maximum=0.5,
                                         include_minimum=False))
        set_(self, "min_loss_increase", check_scalar(self.min_loss_increase, f"{where} 'min_loss_increase'", float,
                                                     minimum=0))
        set_(self, "max_outlier_share", check_scalar(self.max_outlier_share, f"{where} 'max_outlier_share'", float,
                                                     minimum=0, maximum=1))
        check_scalar(self.max_reference_rows, f"{where} 'max_reference_rows'", int, minimum=100)
        check_scalar(self.min_rows, f"{where} 'min_rows'", int, minimum=2)
        check_scalar(self.random_state, f"{where} 'random_state'", int, minimum=0)
        set_(self, "lock_wait", check_scalar(self.lock_wait, f"{where} 'lock_wait'", float, minimum=0))
        if not isinstance(self.drift, Mapping):
            raise StewardInputError(NOT_MAPPING.format(where=f"{where} 'drift'", type=type(self.drift).__name__))
        from mlflow_steward.retrain._checks import drift_config

        drift_config(self)  # monitoring's own checks of the drift keys, before anything is read

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, source: str = "the ingest config") -> IngestConfig:
        return _from_mapping(cls, values, source=source)

    @classmethod
    def coerce(cls, value: IngestConfig | Mapping[str, Any] | None) -> IngestConfig:
        return value if isinstance(value, IngestConfig) else cls.from_dict(value)


_NOT_IN_KEY = ("lock_wait", "lock_ttl", "reuse")


def _default_evaluation() -> Any:
    from mlflow_steward.evaluation._config import EvaluationConfig

    return EvaluationConfig()


def _default_gate() -> Any:
    from mlflow_steward.registry._config import GateConfig

    return GateConfig()


@dataclass(frozen=True)
class RetrainConfig:
    """``steward retrain``: what to retrain on, how to search, when to refresh the test set.

    dataset : the named dataset; its current version is trained and tested on.
    model_name : the registered model (default: the dataset's name).
    cleaning : a ``CleaningConfig`` (or a mapping of its fields); None: the current production
        model's (its data run's ``cleaning/config.json``), else the defaults.
    strategy, families, n_trials, cv, random_state, storage, study_name, n_jobs, workers : the
        search, as for the main job (defaults: :class:`~mlflow_steward.tuning.TuneConfig`).
    evaluation, gate : ``EvaluationConfig`` and ``GateConfig`` (or mappings of their fields).
    ensemble : rebuild an ensemble of the tuned families with this method (None: a single model);
        it goes to the gate only if it beats the best single model.
    warm_start : enqueue the production model's best parameters as the first trial.
    max_promotions : promotions one test-set generation may decide; once reached, the retrain
        refreshes the test set first (and a decision made past it carries a warning).
    refresh_min_rows : rows a refreshed test set must have (from batches production never trained
        on); fewer: no refresh, and the warning stays.
    min_test_rows : a dataset version with a smaller test set is refused (the gate needs rows).
    lock_wait : seconds to wait for another retrain of the dataset to finish (cron overlaps).
    lock_ttl : seconds the retrain's lease lasts without renewal (renewed every ttl/4 while alive).
    """

    dataset: str
    model_name: str | None = None
    cleaning: Any = None
    strategy: str = TuneConfig.strategy
    families: tuple[str, ...] | None = None
    n_trials: int | None = TuneConfig.n_trials
    cv: int = TuneConfig.cv
    random_state: int = TuneConfig.random_state
    storage: str | None = None
    study_name: str | None = None
    n_jobs: int = TuneConfig.n_jobs
    workers: int | None = None
    evaluation: Any = field(default_factory=_default_evaluation)
    gate: Any = field(default_factory=_default_gate)
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
        from mlflow_steward.cleaning._config import CleaningConfig
        from mlflow_steward.data._versions._store import check_name
        from mlflow_steward.evaluation._config import EvaluationConfig
        from mlflow_steward.registry._config import GateConfig

        set_ = object.__setattr__
        check_name(self.dataset)
        if self.model_name is None:
            set_(self, "model_name", self.dataset)
        if not isinstance(self.model_name, str) or not self.model_name.strip():
            raise StewardInputError(f"retrain config model_name must be a non-empty registered model name, got "
                                    f"{self.model_name!r}")
        TuneConfig(strategy=self.strategy, n_trials=self.n_trials, cv=self.cv, random_state=self.random_state,
                   n_jobs=self.n_jobs)
        if self.families is not None:
            families = (self.families,) if isinstance(self.families, str) else tuple(self.families)
            if not families or not all(isinstance(f, str) and f for f in families):
                raise StewardInputError(f"retrain config families must be model family names, got {self.families!r}")
            set_(self, "families", families)
        check_scalar(self.workers, "workers", int, minimum=1, allow_none=True)
        if isinstance(self.cleaning, Mapping):
            set_(self, "cleaning", CleaningConfig.from_dict(self.cleaning))
        elif self.cleaning is not None and not isinstance(self.cleaning, CleaningConfig):
            raise StewardInputError(f"retrain config cleaning must be a CleaningConfig or a mapping, got {self.cleaning!r}")
        if not isinstance(self.evaluation, EvaluationConfig):
            set_(self, "evaluation", EvaluationConfig.from_dict(self.evaluation))
        set_(self, "gate", GateConfig.coerce(self.gate))
        if self.ensemble is not None:
            from mlflow_steward.ensemble._config import EnsembleConfig

            EnsembleConfig(method=self.ensemble, random_state=self.random_state)
        check_scalar(self.warm_start, "warm_start", bool)
        check_scalar(self.max_promotions, "max_promotions", int, minimum=1)
        check_scalar(self.refresh_min_rows, "refresh_min_rows", int, minimum=1)
        check_scalar(self.min_test_rows, "min_test_rows", int, minimum=2)
        set_(self, "lock_wait", check_scalar(self.lock_wait, "lock_wait (seconds)", float, minimum=0))
        set_(self, "lock_ttl", check_scalar(self.lock_ttl, "lock_ttl (seconds)", float, minimum=1))
        for name in ("register", "reuse"):
            check_scalar(getattr(self, name), name, bool)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, source: str = "the retrain config") -> RetrainConfig:
        if not isinstance(values, Mapping) or "dataset" not in values:
            raise StewardInputError(f"{source} needs at least 'dataset'")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                raise unknown_key_error(key, known, where=source)
        return cls(**values)

    def key_fields(self) -> dict[str, Any]:
        """What decides the result (the retrain key): everything but the lock timings and reuse."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in _NOT_IN_KEY:
                continue
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        return out
