"""``tune``: validate → open the study → run trials (each a child run) → summarise → log the parent."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlflow_steward.exceptions import StewardInputError

from . import _grid_search, _optuna_search
from ._config import TuneConfig
from ._cv import fold_splits
from ._families import Family, check_task, resolve_families
from ._objective import CrossValidatedObjective
from ._oof import out_of_fold_predictions
from ._parent import log_summary
from ._plots import draw_optimization_history, draw_param_importances, optimization_history, param_importances
from ._result import TuningResult, summarize_study
from ._scoring import get_scorer
from ._study import data_digest, default_study_name, describe_storage, open_study, resolve_storage
from ._trial_logging import TrialLogger
from ._validation import check_data, check_options

MSG_UNKNOWN_PARENT_RUN = "parent_run_id: no MLflow run {run_id!r} in the tracking store {uri}"


def tune(
    X: Any,
    y: Any,
    *,
    task: str,
    make_pipeline: Callable[[Any], Any],
    families: Sequence[str | Family] | None = None,
    strategy: str = TuneConfig.strategy,
    n_trials: int | None = TuneConfig.n_trials,
    timeout: float | None = TuneConfig.timeout,
    cv: int = TuneConfig.cv,
    scoring: str | None = None,
    storage: Any = None,
    storage_dir: str | Path | None = None,
    study_name: str | None = None,
    random_state: int = TuneConfig.random_state,
    n_jobs: int = TuneConfig.n_jobs,
    parent_run_id: str | None = None,
    sampler: Any = None,
    pruner: Any = None,
    show_progress_bar: bool | None = None,
    oof: bool = True,
    workers: int | None = None,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    warm_start: Sequence[Mapping[str, Any]] = (),
) -> TuningResult:
    """Search model families and their hyperparameters by k-fold CV; log every trial to MLflow.

    Args:
        X: raw feature frame (what ``make_pipeline``'s pipeline takes); y: the target, one per row.
        task: ``"regression"`` or ``"classification"``.
        make_pipeline: ``estimator -> sklearn Pipeline`` (e.g. cleaning + estimator); cloned and
            fitted on each fold's training rows only.
        families: names (or custom :class:`Family` objects); ``None``: every default family
            (regression: ridge, random_forest, hist_gradient_boosting, knn; classification: all).
        strategy: ``"optuna"`` (seeded TPE + median pruning between folds) or ``"grid"`` (every
            combination of each family's grid, once).
        n_trials: trials to add in this call; ``None``: 24 (optuna) or every pending grid point.
        The defaults of ``strategy``, ``n_trials``, ``timeout``, ``cv``, ``random_state`` and
        ``n_jobs`` are :class:`TuneConfig`'s (shared with the main job and the CLI).
        timeout: stop starting new trials after this many seconds.
        cv: folds (KFold shuffled / StratifiedKFold, ``random_state``: see :func:`make_cv`).
        scoring: ``rmse``/``mae``/``r2`` or ``roc_auc``/``log_loss``; ``None``: rmse / roc_auc.
        storage: Optuna storage URL or object; ``None``: ``sqlite:///<storage_dir>/optuna.db``.
        storage_dir: directory of the default SQLite storage (``None``: ``./.steward``).
        study_name: ``None``: derived from the data digest and settings (same data and settings
            resume the same study).
        random_state: seeds the folds, the sampler and the estimators.
        n_jobs: parallel trials (threads; every trial still logs its own child run).
        parent_run_id: the run to nest trials under; ``None``: the active run, or a new run.
        sampler, pruner: Optuna objects replacing the strategy's defaults.
        show_progress_bar: ``None``: when stdout is a terminal (not with ``workers``).
        oof: compute and log each family's out-of-fold predictions.
        workers: ``None``: trials run in this process. ``N``: N worker processes run them (each
            with ``n_jobs`` threads) from the study in ``storage``, which they must all reach
            (``postgresql://...``; ``sqlite:///<file>`` on one machine); the study ends with
            exactly ``n_trials`` more trials; this process waits, then writes the summary. More
            machines can join with :func:`join_study`. ``make_pipeline`` must be picklable.
        heartbeat_interval, grace_period: with ``workers``, a running trial's heartbeat period
            and how long without one before the trial counts as lost (failed, its child run
            closed as FAILED, and retried); ``None``: 10 s and 60 s.
        warm_start: ``[{"family": name, "params": {...}}, ...]`` (optuna strategy): each is
            enqueued as a fixed trial, run first (e.g. the production model's best parameters, so a
            retrain starts from what won last time). Families not searched are skipped; params a
            family's space does not suggest are ignored. In-process the warm-start trials count among
            ``n_trials``; with ``workers`` they come on top.

    Returns:
        :class:`TuningResult` over the whole study (earlier calls' trials included).
    """
    import mlflow

    check_task(task)
    check_options(
        strategy=strategy, n_trials=n_trials, cv=cv, n_jobs=n_jobs, timeout=timeout, make_pipeline=make_pipeline,
        random_state=random_state,
    )
    resolved = resolve_families(task, families)
    check_warm_start(warm_start)
    scorer = get_scorer(task, scoring)
    target, classes = check_data(X, y, task=task, cv=cv)
    storage = resolve_storage(storage, storage_dir)
    if workers is not None:
        from . import _workers

        heartbeat_interval = heartbeat_interval or _workers.DEFAULT_HEARTBEAT_INTERVAL
        grace_period = grace_period or _workers.DEFAULT_GRACE_PERIOD
        _workers.check_worker_options(
            workers=workers, heartbeat_interval=heartbeat_interval, grace_period=grace_period
        )
        storage = _workers.storage_url(storage)
    config = {
        "task": task,
        "strategy": strategy,
        "scoring": scorer.name,
        "direction": scorer.direction,
        "cv": int(cv),
        "random_state": int(random_state),
        "families": list(resolved),
        "data_digest": data_digest(X, target),
    }
    study_name = study_name or default_study_name(config)
    client = mlflow.MlflowClient()
    if parent_run_id is not None:
        _experiment_of(client, parent_run_id)  # fail on a bad id before touching the study
    grid = strategy == "grid"
    module = _grid_search if grid else _optuna_search
    study = open_study(
        storage=storage,
        study_name=study_name,
        direction=scorer.direction,
        sampler=sampler or module.default_sampler(random_state),
        pruner=pruner or module.default_pruner(),
        config=config,
    )
    own_run = None
    if parent_run_id is None and mlflow.active_run() is None:
        own_run = mlflow.start_run(run_name=f"tune-{study_name}")
    parent_run_id = parent_run_id or mlflow.active_run().info.run_id
    try:
        splits = fold_splits(task, target, cv, random_state)
        objective = CrossValidatedObjective(
            X=X, y=target, families=resolved, make_pipeline=make_pipeline, splits=splits, scorer=scorer,
            classes=classes, random_state=random_state, grid=grid,
        )
        enqueue_warm_start(study, resolved, warm_start, grid=grid)
        logged_experiment = _experiment_of(client, parent_run_id)
        logger = TrialLogger(
            client, experiment_id=logged_experiment, parent_run_id=parent_run_id,
            study_name=study_name, scoring=scorer.name, background=True,
        )
        logged = logger.wrap(objective)
        progress = sys.stdout.isatty() if show_progress_bar is None else bool(show_progress_bar)
        if workers is not None:
            from . import _workers

            job = _workers.WorkerJob(
                X=X, y=target, classes=classes, task=task, families=resolved, make_pipeline=make_pipeline,
                scoring=scorer.name, cv=int(cv), random_state=random_state, grid=grid, storage=storage,
                study_name=study_name, parent_run_id=parent_run_id, experiment_id=logged_experiment,
                tracking_uri=mlflow.get_tracking_uri(), registry_uri=mlflow.get_registry_uri(), n_jobs=n_jobs,
                timeout=timeout, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                sampler=sampler, pruner=pruner,
            )
            from ._coordinator import coordinate

            coordinate(study, job, workers=workers, n_trials=n_trials)
        else:
            try:
                _run_here(study, logged, resolved, grid=grid, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs,
                          progress=progress)
            finally:
                logger.flush()
        per_family, counts = summarize_study(study, resolved, direction=scorer.direction)
        oof_frame = None
        if oof:
            oof_frame = out_of_fold_predictions(
                X, target, task=task, per_family=per_family, families=resolved, make_pipeline=make_pipeline,
                splits=splits, classes=classes, random_state=random_state,
            )
        best = next(iter(per_family.values()))
        result = TuningResult(
            best_family=best.family,
            best_params=dict(best.params),
            best_score=best.score,
            best_score_std=best.score_std,
            direction=scorer.direction,
            scoring=scorer.name,
            task=task,
            strategy=strategy,
            per_family=per_family,
            study_name=study_name,
            storage=describe_storage(storage),
            parent_run_id=parent_run_id,
            n_trials=counts,
            cv=int(cv),
            random_state=random_state,
            families=resolved,
            oof_predictions=oof_frame,
        )
        history = optimization_history(study, scoring=scorer.name, direction=scorer.direction)
        log_summary(
            client,
            result,
            history_figure=draw_optimization_history(history),
            importance_figure=draw_param_importances(param_importances(study)),
            oof=oof_frame,
        )
    except BaseException:
        if own_run is not None:
            mlflow.end_run(status="FAILED")
        raise
    if own_run is not None:
        mlflow.end_run()
    return result


MSG_BAD_WARM_START = (
    "warm_start: expected [{{'family': name, 'params': {{...}}}}, ...], got {value!r}"
)


def check_warm_start(warm_start: Any) -> None:
    """Refuse a malformed warm start before anything is written."""
    if isinstance(warm_start, (str, bytes, Mapping)) or not isinstance(warm_start, Sequence):
        raise StewardInputError(MSG_BAD_WARM_START.format(value=warm_start))
    for item in warm_start:
        if not isinstance(item, Mapping) or "family" not in item or not isinstance(item.get("params", {}), Mapping):
            raise StewardInputError(MSG_BAD_WARM_START.format(value=item))


def enqueue_warm_start(study: Any, families: Mapping[str, Family], warm_start: Sequence[Mapping[str, Any]], *,
                       grid: bool) -> int:
    """Enqueue each warm-start trial of a searched family (optuna strategy only); returns how many."""
    from ._families import optuna_params

    if grid or not warm_start:
        return 0
    check_warm_start(warm_start)
    queued = 0
    for item in warm_start:
        family = families.get(str(item["family"]))
        if family is None:
            continue  # not searched this time
        study.enqueue_trial(optuna_params(family.name, dict(item.get("params", {}))), skip_if_exists=True)
        queued += 1
    return queued


def _run_here(
    study: Any, logged: Any, families: Any, *, grid: bool, n_trials: int | None, timeout: float | None,
    n_jobs: int, progress: bool,
) -> None:
    """Trials in this process (``n_jobs`` threads)."""
    with _one_thread_per_trial(n_jobs):
        if grid:
            _grid_search.run_grid(
                study, logged, families, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, show_progress_bar=progress,
            )
        else:
            _optuna_search.run_optuna(
                study, logged, n_trials=n_trials or _optuna_search.DEFAULT_N_TRIALS, timeout=timeout, n_jobs=n_jobs,
                show_progress_bar=progress,
            )


def _one_thread_per_trial(n_jobs: int) -> Any:
    """With parallel trials, each trial's OpenMP/BLAS pools get one thread (no oversubscription:
    HistGradientBoosting's OpenMP threads spin badly when trials already fill the cores)."""
    import contextlib

    if n_jobs == 1:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _experiment_of(client: Any, run_id: str) -> str:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id).info.experiment_id
    except MlflowException as error:
        raise StewardInputError(
            MSG_UNKNOWN_PARENT_RUN.format(run_id=run_id, uri=mlflow.get_tracking_uri())
        ) from error
