"""The main job's configuration, parsed once into a typed dataclass at the boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL_NAME = "steward-housing"


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the ``main`` job (load → clean → tune → fit → evaluate → register → promote) needs.

    ``data=None`` means the bundled demo dataset (California housing) with its spec and the book's
    feature engineering (ratio features, cluster similarity on latitude/longitude).
    """

    data: str | None = None
    spec: Any = None  # mlflow_steward.data.DatasetSpec; None with data=None -> the demo spec
    cleaning: Any = None  # mlflow_steward.cleaning.CleaningConfig; None -> defaults (demo: book's)
    test_size: float = 0.2
    random_state: int = 42
    strategy: str = "optuna"
    families: tuple[str, ...] | None = None
    n_trials: int = 24
    cv: int = 3
    storage: str | None = None
    study_name: str | None = None
    n_jobs: int = 1
    workers: int | None = None  # tuning worker processes (None: trials run in this process)
    model_name: str = DEFAULT_MODEL_NAME
    evaluation: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    ensemble: str | None = "greedy"  # method for an ensemble of the tuned families; None: skip
    register: bool = True
    promote: bool = True
    reuse: bool = True
