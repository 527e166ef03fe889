"""``join_study``: more workers, from another machine, on a study that ``tune(..., workers=N)`` runs.

The study knows what its trials are scored under (its ``steward.config``: task, strategy, scoring,
folds, families, a digest of the data) and how many trials it should end with (its target), so a
joining machine brings only the same training rows, the same ``make_pipeline`` and the parent run.
Its workers draw from the same budget and log their trials under the same parent; the coordinator
(``tune``) writes the summary once, after every worker, here or there, is done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._families import Family


@dataclass(frozen=True)
class WorkerReport:
    """What :func:`join_study`'s workers did, and where the whole study stands."""

    study_name: str
    parent_run_id: str
    exit_codes: tuple[int, ...]
    trial_numbers: tuple[int, ...]  # trials these workers ran (any final state)
    complete: int  # the whole study's trials, by state
    pruned: int
    failed: int


def join_study(
    X: Any,
    y: Any,
    *,
    make_pipeline: Callable[[Any], Any],
    storage: Any,
    study_name: str,
    parent_run_id: str,
    workers: int = 1,
    n_jobs: int = 1,
    families: Sequence[str | Family] | None = None,
    timeout: float | None = None,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    sampler: Any = None,
    pruner: Any = None,
) -> Any:
    """Run trials of an existing worker study from this machine; returns a :class:`WorkerReport`.

    Args:
        X, y, make_pipeline: as given to :func:`tune` by the coordinator (same rows: checked
            against the study's data digest).
        storage: the study's database URL (``postgresql://...``).
        study_name: the study; parent_run_id: the run the coordinator nests trials under.
        workers: worker processes on this machine; n_jobs: threads in each.
        families: only for custom :class:`Family` objects (built-in names come from the study).
        timeout: stop starting trials after this many seconds.
        heartbeat_interval, grace_period: as for :func:`tune` (``None``: the defaults).
    """
    import mlflow
    import optuna

    from mlflow_steward.exceptions import StewardInputError

    from . import _workers
    from ._budget import ATTR_TARGET, budget_status, budgeted_storage
    from ._coordinator import run_workers, sweep
    from ._families import resolve_families
    from ._study import ATTR_CONFIG, data_digest, describe_storage
    from ._tune import _experiment_of
    from ._validation import check_data, check_options

    heartbeat_interval = heartbeat_interval or _workers.DEFAULT_HEARTBEAT_INTERVAL
    grace_period = grace_period or _workers.DEFAULT_GRACE_PERIOD
    _workers.check_worker_options(workers=workers, heartbeat_interval=heartbeat_interval, grace_period=grace_period)
    url = _workers.storage_url(storage)
    opened = budgeted_storage(url)
    try:
        study = optuna.load_study(study_name=study_name, storage=opened)
    except KeyError as error:
        raise StewardInputError(
            _workers.MSG_NO_STUDY.format(study=study_name, storage=describe_storage(url))
        ) from error
    config = study.user_attrs.get(ATTR_CONFIG)
    if config is None or ATTR_TARGET not in study.user_attrs:
        raise StewardInputError(_workers.MSG_NO_TARGET.format(study=study_name))
    task = config["task"]
    check_options(
        strategy=config["strategy"], n_trials=None, cv=config["cv"], n_jobs=n_jobs, timeout=timeout,
        make_pipeline=make_pipeline, random_state=config["random_state"],
    )
    target, classes = check_data(X, y, task=task, cv=config["cv"])
    digest = data_digest(X, target)
    if digest != config["data_digest"]:
        raise StewardInputError(_workers.MSG_JOIN_DATA.format(study=study_name, have=digest, want=config["data_digest"]))
    resolved = resolve_families(task, families if families is not None else config["families"])
    if list(resolved) != list(config["families"]):
        raise StewardInputError(
            _workers.MSG_JOIN_FAMILIES.format(study=study_name, want=config["families"], have=list(resolved))
        )
    client = mlflow.MlflowClient()
    job = _workers.WorkerJob(
        X=X, y=target, classes=classes, task=task, families=resolved, make_pipeline=make_pipeline,
        scoring=config["scoring"], cv=config["cv"], random_state=config["random_state"],
        grid=config["strategy"] == "grid", storage=url, study_name=study_name, parent_run_id=parent_run_id,
        experiment_id=_experiment_of(client, parent_run_id), tracking_uri=mlflow.get_tracking_uri(),
        registry_uri=mlflow.get_registry_uri(), n_jobs=n_jobs, timeout=timeout,
        heartbeat_interval=heartbeat_interval, grace_period=grace_period, sampler=sampler, pruner=pruner,
    )
    results = run_workers(job, workers)
    sweep(job, {_workers.worker_identity(pid) for pid, code in results if code != 0})
    ours = {_workers.worker_identity(pid) for pid, _ in results}
    study_id = opened.get_study_id_from_name(study_name)
    trials = opened.get_all_trials(study_id, deepcopy=False)
    status = budget_status(opened, study_id)
    return WorkerReport(
        study_name=study_name,
        parent_run_id=parent_run_id,
        exit_codes=tuple(code for _, code in results),
        trial_numbers=tuple(t.number for t in trials if t.user_attrs.get(_workers.ATTR_WORKER) in ours),
        complete=status.complete,
        pruned=status.pruned,
        failed=status.failed,
    )
