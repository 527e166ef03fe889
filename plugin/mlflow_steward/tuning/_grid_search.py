"""The ``grid`` strategy: every combination of each family's grid, once.

It runs through Optuna like the ``optuna`` strategy (same objective, same child runs, same study
storage and progress bar): every grid point not yet evaluated is enqueued as fixed params and the
study is optimised for that many trials. A grid point counts as evaluated when a trial with its
params is COMPLETE or PRUNED; failed points are tried again on the next call, and points already
waiting in the queue (from an interrupted call) are not enqueued twice. Pruning is off unless a
pruner is passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any


from ._families import Family, optuna_params


def grid_points(families: Mapping[str, Family]) -> list[dict[str, Any]]:
    """Every grid point of every family, as the study's parameters (family first, then params)."""
    return [optuna_params(name, point) for name, family in families.items() for point in family.grid_points()]


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


def default_sampler(random_state: int | None) -> Any:
    # Only reached if a trial was not enqueued (e.g. another worker took the last point).
    import optuna

    return optuna.samplers.RandomSampler(seed=random_state)


def default_pruner() -> Any:
    import optuna

    return optuna.pruners.NopPruner()


def pending_points(study: Any, families: Mapping[str, Family]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(not yet evaluated, of which not yet queued)`` grid points, in grid order."""
    from optuna.trial import TrialState

    from mlflow_steward._compat.optuna import enqueued_params  # imports Optuna: keep `tuning` cheap

    done, queued = set(), set()
    for trial in study.get_trials(deepcopy=False):
        params = enqueued_params(trial)
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done.add(_key(params))
        elif trial.state == TrialState.WAITING:
            queued.add(_key(params))
    todo = [p for p in grid_points(families) if _key(p) not in done]
    return todo, [p for p in todo if _key(p) not in queued]


def enqueue_pending(study: Any, families: Mapping[str, Family], *, n_trials: int | None) -> int:
    """Queue the pending grid points (at most ``n_trials``); returns how many are to run."""
    todo, to_queue = pending_points(study, families)
    n_run = len(todo) if n_trials is None else min(n_trials, len(todo))
    already_queued = len(todo) - len(to_queue)
    for params in to_queue[: max(0, n_run - already_queued)]:
        study.enqueue_trial(params)
    return n_run


def run_grid(
    study: Any,
    objective: Callable[[Any], float],
    families: Mapping[str, Family],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    show_progress_bar: bool,
) -> int:
    """Evaluate the pending grid points (at most ``n_trials``); returns how many were started."""
    n_run = enqueue_pending(study, families, n_trials=n_trials)
    if n_run == 0:
        return 0

    def stop_when_queue_empty(study: Any, trial: Any) -> None:
        from optuna.trial import TrialState

        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.stop()

    study.optimize(
        objective,
        n_trials=n_run,
        timeout=timeout,
        n_jobs=n_jobs,
        catch=(Exception,),
        callbacks=[stop_when_queue_empty],
        show_progress_bar=show_progress_bar,
    )
    return n_run
