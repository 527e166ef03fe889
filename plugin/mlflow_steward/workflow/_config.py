"""The main job's configuration, parsed once into a typed dataclass at the boundary.

Every field is checked on construction, before any MLflow run starts: the JSON configurations
become :class:`~mlflow_steward.cleaning.CleaningConfig`,
:class:`~mlflow_steward.evaluation.EvaluationConfig` and :class:`~mlflow_steward.registry.GateConfig`
(unknown keys are errors naming the key and the closest valid one), and the tuning and ensemble
settings are checked by :class:`~mlflow_steward.tuning.TuneConfig` and
:class:`~mlflow_steward.ensemble.EnsembleConfig`, whose defaults these fields take. The CLI
(``steward run/clean/tune``), the MLproject and the Python API all take their defaults from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward.data._split import DEFAULT_TEST_SIZE
from mlflow_steward.ensemble._config import EnsembleConfig
from mlflow_steward.exceptions import StewardInputError, check_scalar
from mlflow_steward.tuning._config import TuneConfig

DEFAULT_MODEL_NAME = "steward-housing"

BAD_TYPE = "PipelineConfig.{name} must be {expected}, got {value!r}"


def _default_evaluation() -> Any:
    from mlflow_steward.evaluation._config import EvaluationConfig

    return EvaluationConfig()


def _default_gate() -> Any:
    from mlflow_steward.registry._config import GateConfig

    return GateConfig()


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the ``main`` job (load → clean → tune → fit → evaluate → register → promote) needs.

    ``data=None`` means the bundled demo dataset (California housing) with its spec and the book's
    feature engineering (ratio features, cluster similarity on latitude/longitude).
    ``evaluation``, ``gate`` and ``cleaning`` accept their dataclass or a plain mapping (parsed here,
    unknown keys refused); ``ensemble`` is the method of the ensemble of tuned families (None: none).
    """

    data: str | None = None
    spec: Any = None  # mlflow_steward.data.DatasetSpec; None with data=None -> the demo spec
    cleaning: Any = None  # mlflow_steward.cleaning.CleaningConfig; None -> defaults (demo: book's)
    test_size: float = DEFAULT_TEST_SIZE
    random_state: int = TuneConfig.random_state
    strategy: str = TuneConfig.strategy
    families: tuple[str, ...] | None = None
    n_trials: int | None = TuneConfig.n_trials
    cv: int = TuneConfig.cv
    storage: str | None = None
    study_name: str | None = None
    n_jobs: int = TuneConfig.n_jobs
    workers: int | None = None  # tuning worker processes (None: trials run in this process)
    model_name: str = DEFAULT_MODEL_NAME
    evaluation: Any = field(default_factory=_default_evaluation)  # EvaluationConfig
    gate: Any = field(default_factory=_default_gate)  # GateConfig
    ensemble: str | None = EnsembleConfig.method  # method for an ensemble of the tuned families; None: skip
    register: bool = True
    promote: bool = True
    reuse: bool = True

    def __post_init__(self) -> None:
        if self.data is not None and (not isinstance(self.data, str) or not self.data.strip()):
            _bad("data", "a path to a CSV or Parquet file (or None: the demo dataset)", self.data)
        self._check_spec_and_cleaning()
        object.__setattr__(
            self, "test_size",
            check_scalar(self.test_size, "test_size", float, minimum=0, maximum=1,
                         include_minimum=False, include_maximum=False),
        )
        check_scalar(self.random_state, "random_state", int, minimum=0)
        TuneConfig(strategy=self.strategy, n_trials=self.n_trials, cv=self.cv, random_state=self.random_state,
                   n_jobs=self.n_jobs)
        if self.families is not None:
            if isinstance(self.families, str) or not all(isinstance(f, str) and f for f in self.families):
                _bad("families", "a list of model family names", self.families)
            object.__setattr__(self, "families", tuple(self.families))
        for name in ("storage", "study_name"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                _bad(name, "a non-empty string or None", value)
        check_scalar(self.workers, "workers", int, minimum=1, allow_none=True)
        if not isinstance(self.model_name, str) or not self.model_name.strip():
            _bad("model_name", "a non-empty registered model name", self.model_name)
        object.__setattr__(self, "evaluation", _evaluation(self.evaluation))
        object.__setattr__(self, "gate", _gate(self.gate))
        if self.ensemble is not None:
            EnsembleConfig(method=self.ensemble, random_state=self.random_state)
        for name in ("register", "promote", "reuse"):
            check_scalar(getattr(self, name), name, bool)

    def _check_spec_and_cleaning(self) -> None:
        from mlflow_steward.cleaning._config import CleaningConfig
        from mlflow_steward.data._spec import DatasetSpec

        if self.spec is not None and not isinstance(self.spec, DatasetSpec):
            _bad("spec", "a DatasetSpec or None", self.spec)
        if isinstance(self.cleaning, Mapping):
            object.__setattr__(self, "cleaning", CleaningConfig.from_dict(self.cleaning))
        elif self.cleaning is not None and not isinstance(self.cleaning, CleaningConfig):
            _bad("cleaning", "a CleaningConfig, a mapping of its fields or None", self.cleaning)

    def tune_config(self) -> TuneConfig:
        """The search settings as :class:`~mlflow_steward.tuning.TuneConfig`."""
        return TuneConfig(strategy=self.strategy, n_trials=self.n_trials, cv=self.cv,
                          random_state=self.random_state, n_jobs=self.n_jobs)


def _evaluation(value: Any) -> Any:
    from mlflow_steward.evaluation._config import EvaluationConfig

    if isinstance(value, EvaluationConfig):
        return value
    if value is None or isinstance(value, Mapping):
        return EvaluationConfig.from_dict(value)
    _bad("evaluation", "an EvaluationConfig or a mapping of its fields", value)


def _gate(value: Any) -> Any:
    from mlflow_steward.registry._config import GateConfig

    if value is None or isinstance(value, (GateConfig, Mapping)):
        return GateConfig.coerce(value)
    _bad("gate", "a GateConfig or a mapping of its fields", value)


def _bad(name: str, expected: str, value: Any) -> None:
    raise StewardInputError(BAD_TYPE.format(name=name, expected=expected, value=value))
