"""The ``optuna`` strategy: a seeded TPE sampler over every family's space, median pruning.

One study holds all families: the categorical parameter ``family`` picks one, then that family's
(prefixed) parameters are suggested. TPE samples the conditional spaces independently; the first
10 trials are random (TPE's startup). Pruning: after each fold the trial reports the running mean
of its fold scores; :class:`optuna.pruners.MedianPruner` stops it when that is worse than the median
of completed trials at the same fold (from the 6th trial on). The folds are the same for every
trial and family, so the comparison is fair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlflow_steward.tuning._config import DEFAULT_N_TRIALS  # noqa: F401 (re-exported for callers)
PRUNER_STARTUP_TRIALS = 3  # completed trials of a family before its trials can be pruned


def default_sampler(random_state: int | None) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=random_state)


def default_pruner() -> Any:
    """Median pruning between folds, each trial compared with its own family only."""
    from mlflow_steward.tuning._pruner import FamilyMedianPruner

    return FamilyMedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=0)


def run_optuna(
    study: Any,
    objective: Callable[[Any], float],
    *,
    n_trials: int,
    timeout: float | None,
    n_jobs: int,
    show_progress_bar: bool,
) -> None:
    """``n_trials`` more trials (failed trials are logged and the study goes on)."""
    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        n_jobs=n_jobs,
        catch=(Exception,),
        show_progress_bar=show_progress_bar,
    )
