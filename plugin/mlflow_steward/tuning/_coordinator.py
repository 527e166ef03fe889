"""The coordinator side of worker tuning: start the workers, wait, sweep (see :mod:`._workers`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from typing import Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardError, StewardInputError

from ._trial_logging import ATTR_ERROR, ATTR_RUN_ID
from ._workers import (
    ATTR_WORKER,
    MSG_NOT_PICKLABLE,
    MSG_RUN_ORPHANED,
    MSG_WORKER_DIED,
    MSG_WORKERS_FAILED,
    POLL_SECONDS,
    STOP_SECONDS,
    StaleTrialHandler,
    WorkerJob,
    _fail_stale_trials,
    _trial_logger,
    close_lost_run,
    running_trial_runs,
    worker_identity,
)

WORKER_MODULE = "mlflow_steward.tuning._workers"  # python -m WORKER_MODULE: one worker process

def run_workers(job: WorkerJob, workers: int) -> list[tuple[int, int]]:
    """Start ``workers`` processes on ``job`` and wait for them: ``[(pid, exit code), ...]``."""
    import cloudpickle

    try:
        payload = cloudpickle.dumps(job)
    except Exception as error:
        raise StewardInputError(MSG_NOT_PICKLABLE.format(error=error)) from error
    env = {**os.environ, "MLFLOW_TRACKING_URI": job.tracking_uri}
    if job.registry_uri:
        env["MLFLOW_REGISTRY_URI"] = job.registry_uri
    processes: list[subprocess.Popen] = []
    try:
        for _ in range(workers):
            process = subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, env=env)
            processes.append(process)
            try:
                process.stdin.write(payload)  # type: ignore[union-attr]
                process.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:  # it died at start: its exit code tells
                pass
        codes = [process.wait() for process in processes]
    except BaseException:
        _stop(processes)
        raise
    for index, (process, code) in enumerate(zip(processes, codes)):
        if code != 0:
            warnings.warn(MSG_WORKER_DIED.format(index=index, pid=process.pid, code=code), stacklevel=3)
    return [(process.pid, code) for process, code in zip(processes, codes)]


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM (workers fail their running trial and close its run), then SIGKILL the stragglers."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sweep(job: WorkerJob, dead_workers: set[str]) -> int:
    """After the workers: fail the trials dead workers left RUNNING (once their grace period is
    over: Optuna's heartbeat check, which also closes their runs and queues retries); then settle
    every child run still RUNNING whose trial has ended: written from the study when Optuna holds
    the trial's outcome (its worker died between Optuna's tell and the run's log_batch), else
    closed as FAILED. Returns the runs settled by the second step."""
    import mlflow
    import optuna
    from optuna.trial import TrialState

    from ._budget import budgeted_storage

    client = mlflow.MlflowClient(job.tracking_uri, job.registry_uri)
    storage = budgeted_storage(
        job.storage, heartbeat_interval=job.heartbeat_interval, grace_period=job.grace_period,
        stale_trial_callback=StaleTrialHandler(client, job),
    )
    study = optuna.load_study(study_name=job.study_name, storage=storage)
    study_id = storage.get_study_id_from_name(job.study_name)

    def left_by_dead() -> list[Any]:
        running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [t for t in running if t.user_attrs.get(ATTR_WORKER) in dead_workers]

    deadline = time.monotonic() + job.grace_period + 2 * job.heartbeat_interval
    while dead_workers and left_by_dead() and time.monotonic() < deadline:
        _fail_stale_trials(study)
        time.sleep(POLL_SECONDS)
    trials = {t.number: t for t in storage.get_all_trials(study_id, deepcopy=False)}
    runs = running_trial_runs(client, job)
    logger = _trial_logger(job, client)
    closed = 0
    for run in runs:
        trial = trials.get(int(run.data.tags.get(names.TAG_TRIAL_NUMBER, -1)))
        if trial is None or not trial.state.is_finished():
            continue  # still running (a worker elsewhere) or not a trial's run
        if trial.user_attrs.get(ATTR_RUN_ID) == run.info.run_id and (
            trial.state != TrialState.FAIL or ATTR_ERROR in trial.user_attrs
        ):  # Optuna has the outcome, the worker died before writing it: write it now
            logger.finish(run.info.run_id, trial, trial.state.name, error=trial.user_attrs.get(ATTR_ERROR))
            closed += 1
        else:
            reason = MSG_RUN_ORPHANED.format(number=trial.number, state=trial.state.name)
            closed += close_lost_run(client, run.info.run_id, reason)
    return closed


def coordinate(study: Any, job: WorkerJob, *, workers: int, n_trials: int | None) -> None:
    """``tune``'s worker mode: set the target, tag the parent, run the workers, sweep."""
    from . import _grid_search
    from ._budget import budget_status, budgeted_storage, set_target
    from ._optuna_search import DEFAULT_N_TRIALS
    from ._study import describe_storage

    storage = budgeted_storage(job.storage)
    study_id = storage.get_study_id_from_name(job.study_name)
    if job.grid:
        if _grid_search.enqueue_pending(study, job.families, n_trials=n_trials) == 0:
            return
        status = set_target(storage, study_id, 0)  # the queued grid points are the budget
    else:
        status = set_target(storage, study_id, n_trials or DEFAULT_N_TRIALS)
    _tag_parent(job, describe_storage(job.storage))
    results = run_workers(job, workers)
    sweep(job, {worker_identity(pid) for pid, code in results if code != 0})
    if all(code != 0 for _, code in results) and not budget_status(storage, study_id).done:
        raise StewardError(
            MSG_WORKERS_FAILED.format(
                n=len(results), codes=", ".join(str(c) for _, c in results), study=job.study_name,
                target=status.target,
            )
        )


def _tag_parent(job: WorkerJob, storage: str) -> None:
    """Study name and storage on the parent from the start, so workers elsewhere can find them."""
    import mlflow
    from mlflow.entities import RunTag

    mlflow.MlflowClient(job.tracking_uri).log_batch(
        job.parent_run_id,
        tags=[RunTag(names.TAG_STUDY_NAME, job.study_name), RunTag(names.TAG_STUDY_STORAGE, storage)],
    )
