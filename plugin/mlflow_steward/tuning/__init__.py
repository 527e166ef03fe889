"""Tuning: search model families and hyperparameters by k-fold CV, every trial an MLflow child run.

``tune`` does not import ``cleaning``: the caller passes ``make_pipeline(estimator) -> Pipeline``
(cleaning + estimator), which every fold fits on its training rows only. ``tune(..., workers=N)``
runs the trials in N processes sharing one study (PostgreSQL for several machines), and
``join_study`` adds workers from another machine.
"""

from ._config import DEFAULT_N_TRIALS, TuneConfig
from ._cv import make_cv
from ._families import FAMILIES, Family, default_families, get_family
from ._join import WorkerReport, join_study
from ._plots import (
    HistoryRecord,
    ImportanceRecord,
    draw_optimization_history,
    draw_param_importances,
    optimization_history,
    param_importances,
)
from ._result import FamilyResult, TrialCounts, TuningResult
from ._scoring import SCORERS
from ._trial_logging import TrialLogger
from ._tune import tune
from ._validation import check_tune_inputs

__all__ = [
    "DEFAULT_N_TRIALS",
    "FAMILIES",
    "SCORERS",
    "Family",
    "FamilyResult",
    "HistoryRecord",
    "ImportanceRecord",
    "TrialCounts",
    "TrialLogger",
    "TuneConfig",
    "check_tune_inputs",
    "TuningResult",
    "WorkerReport",
    "default_families",
    "draw_optimization_history",
    "draw_param_importances",
    "get_family",
    "join_study",
    "make_cv",
    "optimization_history",
    "param_importances",
    "tune",
]
