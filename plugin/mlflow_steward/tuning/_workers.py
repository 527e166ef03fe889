"""Tuning across worker processes: one study in a shared database, every trial a child of one parent.

``tune(..., workers=N)`` is the coordinator: it opens the study, sets its trial target (see
:mod:`._budget`), tags the parent run, starts N worker processes (``python -m
mlflow_steward.tuning._workers``, the job sent pickled on stdin) and waits; then it sweeps (below)
and writes the summary once (best params, plots, out-of-fold predictions). Workers do trials only:
each loads the study with a heartbeat, runs ``study.optimize`` (``n_jobs`` threads) and logs every
trial as a child run of the parent with :class:`TrialLogger` (client API, one ``log_batch`` per
trial), until the study holds its target and nothing is running or queued any more. A worker writes
a trial's run after Optuna has recorded the trial's state (``defer_finish``), so no trial can be
logged as finished yet be failed and retried by the heartbeat.

From another machine, :func:`join_study` (``steward tune --parent-run RUN_ID --workers N``) starts
more workers on the same study and parent run; they draw from the same budget.

A killed worker: its trial stops sending heartbeats. ``grace_period`` seconds later the next worker
that starts or waits for a trial fails it (Optuna's ``fail_stale_trials``), closes its child run as
FAILED (tag ``steward.trial_error`` says which worker was lost) and queues a retry with the same
params (at most :data:`MAX_RETRY` times); the retry takes the dead trial's slot, so the study still
reaches its target. After the workers, the coordinator fails what is left of its own dead workers'
trials and settles any child run still RUNNING whose trial has ended (:mod:`._coordinator`).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, check_scalar

from mlflow_steward._compat.optuna import retry_history

from ._families import Family
from ._trial_logging import STATE_FAIL

ATTR_WORKER = names.TRIAL_ATTR_WORKER  # trial user attribute: "<host>:<pid>" of the worker that ran it
DEFAULT_HEARTBEAT_INTERVAL = 10  # seconds between a running trial's heartbeats
DEFAULT_GRACE_PERIOD = 60  # seconds without a heartbeat before a trial counts as lost
MAX_RETRY = 2  # times a lost trial is queued again
POLL_SECONDS = 1.0
STOP_SECONDS = 30.0  # after SIGTERM, how long workers get to close their trials

MSG_BAD_WORKERS = "workers (worker processes) must be an integer >= 1, got {workers!r}"  # as check_scalar says
MSG_BAD_HEARTBEAT = "heartbeat_interval (seconds) must be an integer >= 1, got {value!r}"
MSG_BAD_GRACE = (
    "grace_period must be an integer number of seconds greater than heartbeat_interval ({interval}), got {value!r}"
)
MSG_WORKERS_STORAGE = (
    "storage: workers need a database every worker can open: a postgresql:// or mysql:// URL, or "
    "sqlite:///<file> for workers on this machine only; got {storage!r}"
)
MSG_NOT_PICKLABLE = (
    "make_pipeline and families must be picklable to reach the worker processes (a module-level "
    "function, or functools.partial of one): {error}"
)
MSG_WORKERS_FAILED = (
    "all {n} tuning workers failed (exit codes {codes}) before study {study!r} reached its {target} "
    "trials; the trials so far are kept: call again with the same study_name to go on"
)
MSG_WORKER_DIED = (
    "tuning worker {index} (pid {pid}) exited with code {code}; the other workers went on "
    "(its running trial is failed by the heartbeat and retried)"
)
MSG_WORKER_LOST = "worker {worker} lost: no heartbeat for {grace} s; trial {number} {outcome}"
MSG_RETRIED = "queued again with the same params"
MSG_NOT_RETRIED = "not retried (already retried {max_retry} times)"
MSG_RUN_ORPHANED = "trial {number} ended {state} but its worker never closed this run (worker lost)"
MSG_FINISH_FAILED = "could not write the child run of trial {number} (the final sweep will): {error}"
MSG_CLOSE_FAILED = "could not close the child run {run_id} of a lost trial: {error}"
MSG_NO_STUDY = (
    "study_name: no study {study!r} in {storage}; start it with tune(..., workers=N) "
    "(steward tune --workers N) first"
)
MSG_NO_TARGET = (
    "study_name: study {study!r} has no trial target (it never ran with workers); start it with "
    "tune(..., workers=N) (steward tune --workers N) first"
)
MSG_JOIN_DATA = (
    "X, y: not the rows study {study!r} was created with (data digest {have:.12} != {want:.12}); "
    "join with the same training rows"
)
MSG_JOIN_FAMILIES = "families: study {study!r} tunes {want}, got {have}"


def worker_identity(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def check_worker_options(*, workers: Any, heartbeat_interval: Any, grace_period: Any) -> None:
    check_scalar(workers, "workers (worker processes)", int, minimum=1)
    check_scalar(heartbeat_interval, "heartbeat_interval (seconds)", int, minimum=1)
    if isinstance(grace_period, bool) or not isinstance(grace_period, int) or grace_period <= heartbeat_interval:
        raise StewardInputError(MSG_BAD_GRACE.format(interval=heartbeat_interval, value=grace_period))


def storage_url(storage: Any) -> str:
    """The URL workers open: an RDB URL (or an ``RDBStorage``'s), not an in-memory database."""
    from ._study import sqlite_file

    url = storage if isinstance(storage, str) else getattr(storage, "url", None)
    if not isinstance(url, str) or not (
        url.startswith(("postgresql", "mysql", "mariadb")) or sqlite_file(url) is not None
    ):
        raise StewardInputError(MSG_WORKERS_STORAGE.format(storage=storage if url is None else url))
    return url


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker process needs, sent to it pickled."""

    X: Any = field(repr=False)
    y: Any = field(repr=False)
    classes: Any
    task: str
    families: Mapping[str, Family]
    make_pipeline: Callable[[Any], Any] = field(repr=False)
    scoring: str
    cv: int
    random_state: int
    grid: bool
    storage: str = field(repr=False)
    study_name: str
    parent_run_id: str
    experiment_id: str
    tracking_uri: str
    registry_uri: str | None
    n_jobs: int = 1
    timeout: float | None = None
    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL
    grace_period: int = DEFAULT_GRACE_PERIOD
    sampler: Any = None
    pruner: Any = None


# --- worker side -------------------------------------------------------------------------------
class StaleTrialHandler:
    """Optuna's heartbeat callback: close the lost trial's child run as FAILED, queue its retry."""

    def __init__(self, client: Any, job: WorkerJob, *, max_retry: int = MAX_RETRY) -> None:
        from mlflow_steward._compat.optuna import retry_callback

        self.client = client
        self.job = job
        self.max_retry = max_retry
        self._retry = retry_callback(max_retry)

    def __call__(self, study: Any, trial: Any) -> None:
        retried = len(retry_history(trial)) < self.max_retry
        self._retry(study, trial)
        outcome = MSG_RETRIED if retried else MSG_NOT_RETRIED.format(max_retry=self.max_retry)
        reason = MSG_WORKER_LOST.format(
            worker=trial.user_attrs.get(ATTR_WORKER, "?"), grace=self.job.grace_period, number=trial.number,
            outcome=outcome,
        )
        for run in running_trial_runs(self.client, self.job, number=trial.number):  # by tag: the trial
            close_lost_run(self.client, run.info.run_id, reason)  # may not hold its run's id yet


def running_trial_runs(client: Any, job: WorkerJob, *, number: int | None = None) -> list[Any]:
    """The RUNNING child runs of ``job``'s parent (of trial ``number`` only, if given)."""
    query = f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{job.parent_run_id}' and attributes.status = 'RUNNING'"
    if number is not None:
        query += f" and tags.`{names.TAG_TRIAL_NUMBER}` = '{number}'"
    return list(client.search_runs([job.experiment_id], filter_string=query, max_results=1000))


def close_lost_run(client: Any, run_id: str, reason: str) -> bool:
    """Mark a child run left RUNNING by a lost worker FAILED (tags say why); ``True`` if it did."""
    from mlflow.entities import RunTag
    from mlflow.exceptions import MlflowException

    try:
        if client.get_run(run_id).info.status != "RUNNING":
            return False
        client.log_batch(
            run_id, tags=[RunTag(names.TAG_TRIAL_STATE, STATE_FAIL), RunTag(names.TAG_TRIAL_ERROR, reason)]
        )
        client.set_terminated(run_id, status="FAILED")
    except MlflowException as error:  # the coordinator's sweep tries again
        warnings.warn(MSG_CLOSE_FAILED.format(run_id=run_id, error=error), stacklevel=2)
        return False
    return True


def _fail_stale_trials(study: Any) -> None:
    import optuna
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _worker_sampler(job: WorkerJob) -> Any:
    """Each worker samples on its own: a TPE with the constant liar (running trials count as
    bad, so workers spread out), seeded per process; a given sampler is reseeded."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    if job.sampler is not None:
        job.sampler.reseed_rng()
        return job.sampler
    if job.grid:
        return optuna.samplers.RandomSampler()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return optuna.samplers.TPESampler(constant_liar=True)


def run_worker(job: WorkerJob) -> None:
    """Run trials of ``job``'s study until it holds its target and nothing runs (or the timeout)."""
    import mlflow
    import optuna
    from threadpoolctl import threadpool_limits

    from . import _grid_search, _optuna_search
    from ._budget import budgeted_storage
    from ._cv import fold_splits
    from ._objective import CrossValidatedObjective
    from ._scoring import get_scorer

    mlflow.set_tracking_uri(job.tracking_uri)
    if job.registry_uri:
        mlflow.set_registry_uri(job.registry_uri)
    client = mlflow.MlflowClient(job.tracking_uri, job.registry_uri)
    storage = budgeted_storage(
        job.storage, heartbeat_interval=job.heartbeat_interval, grace_period=job.grace_period,
        stale_trial_callback=StaleTrialHandler(client, job),
    )
    module = _grid_search if job.grid else _optuna_search
    study = optuna.load_study(
        study_name=job.study_name, storage=storage, sampler=_worker_sampler(job),
        pruner=job.pruner or module.default_pruner(),
    )
    scorer = get_scorer(job.task, job.scoring)
    objective = CrossValidatedObjective(
        X=job.X, y=job.y, families=job.families, make_pipeline=job.make_pipeline,
        splits=fold_splits(job.task, job.y, job.cv, job.random_state), scorer=scorer, classes=job.classes,
        random_state=job.random_state, grid=job.grid,
    )
    logger = _trial_logger(job, client, background=True)
    logged = logger.wrap(objective, defer_finish=True)  # the run is written after Optuna's tell
    identity = worker_identity()

    def run_trial(trial: Any) -> float:
        trial.set_user_attr(ATTR_WORKER, identity)
        return logged(trial)

    deadline = None if job.timeout is None else time.monotonic() + job.timeout
    try:
        with threadpool_limits(limits=1):  # the workers fill the cores; one BLAS/OpenMP thread each
            _work(study, storage, run_trial, logger.finish_callback, n_jobs=job.n_jobs, deadline=deadline)
    finally:
        logger.flush()  # queued run writes (a failed one is completed by the coordinator's sweep)


def _trial_logger(job: WorkerJob, client: Any, *, background: bool = False) -> Any:
    from ._trial_logging import TrialLogger

    return TrialLogger(
        client, experiment_id=job.experiment_id, parent_run_id=job.parent_run_id, study_name=job.study_name,
        scoring=job.scoring, background=background,
    )


def _work(
    study: Any, storage: Any, objective: Callable[[Any], float], finish_run: Callable[[Any, Any], None], *,
    n_jobs: int, deadline: float | None,
) -> None:
    from ._budget import BudgetReached, budget_status

    study_id = storage.get_study_id_from_name(study.study_name)

    def after_trial(study: Any, trial: Any) -> None:
        from mlflow.exceptions import MlflowException

        try:
            finish_run(study, trial)
        except MlflowException as error:  # the coordinator's sweep completes it from the study
            warnings.warn(MSG_FINISH_FAILED.format(number=trial.number, error=error), stacklevel=2)
        if not budget_status(storage, study_id).room:
            study.stop()

    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return
        try:
            study.optimize(
                objective, timeout=remaining, n_jobs=n_jobs, catch=(Exception,), callbacks=[after_trial]
            )
        except BudgetReached:
            pass
        status = budget_status(storage, study_id)
        if status.done:
            return
        if not status.room and not status.waiting:  # others' trials run: one may die and be retried
            _fail_stale_trials(study)
            time.sleep(POLL_SECONDS)


def main() -> int:
    """``python -m mlflow_steward.tuning._workers``: read the pickled job on stdin, run it."""
    import signal

    payload = sys.stdin.buffer.read()
    import cloudpickle

    job = cloudpickle.loads(payload)

    def interrupt(signum: int, frame: Any) -> None:  # SIGTERM: fail the running trial cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    run_worker(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
