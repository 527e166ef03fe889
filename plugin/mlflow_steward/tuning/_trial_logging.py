"""Each trial as a nested MLflow child run, written with :class:`mlflow.MlflowClient` only.

No fluent ``mlflow.start_run`` (whose active-run stack is per thread and per process): a trial's run
is created with ``create_run(experiment_id, tags={"mlflow.parentRunId": ..., "mlflow.runName": ...})``,
filled with ONE ``log_batch`` call and closed with ``set_terminated``. That is safe from Optuna's
``n_jobs > 1`` threads and from several worker processes sharing one tracking server. ``tune`` hands
the three calls to one writer thread (``background=True``), so trials compute while the tracking
server writes.

A child run holds:

- params: ``family``, the estimator's params (natural names, no prefix) and ``trial_number``;
- metrics: ``cv_<scoring>_mean``, ``cv_<scoring>_std`` (population std over folds, as scikit-learn's
  ``cv_results_``), ``cv_<scoring>_fold_<k>`` per fold, ``n_folds`` (folds scored: fewer when the
  trial was pruned) and ``fit_time_s`` (sum of the folds' fit times);
- tags: study name, trial number, family, Optuna state (``COMPLETE``/``PRUNED``/``FAIL``) and, when
  it failed, the error; the run ends ``FINISHED``, ``KILLED`` (pruned) or ``FAILED``.
"""

from __future__ import annotations

import functools
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlflow_steward import names

from ._families import split_params
from ._objective import ATTR_CV, ATTR_FIT_TIME, ATTR_FOLD_SCORES

ATTR_RUN_ID = "mlflow_run_id"  # trial user attribute: the trial's child run
ATTR_ERROR = "error"  # trial user attribute of a failed trial: "<Exception>: <message>"
STATE_COMPLETE = "COMPLETE"
STATE_PRUNED = "PRUNED"
STATE_FAIL = "FAIL"
_RUN_STATUS = {STATE_COMPLETE: "FINISHED", STATE_PRUNED: "KILLED", STATE_FAIL: "FAILED"}
MSG_WRITE_FAILED = (
    "could not write the child runs of {n} trial(s) (they stay RUNNING; first: trial {number}): {error}"
)
_MAX_ERROR_CHARS = 1000
_MAX_PARAM_CHARS = 500


def cv_metric(scoring: str, what: str) -> str:
    """``cv_rmse_mean``, ``cv_rmse_std``, ``cv_rmse_fold_0``..."""
    return f"cv_{scoring}_{what}"


def describe_error(error: BaseException) -> str:
    """``ArithmeticError: message`` (one line, at most 1000 characters)."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:_MAX_ERROR_CHARS]


def _now_ms() -> int:
    return int(time.time() * 1000)


class TrialLogger:
    """Logs every trial of a study as a child run of ``parent_run_id``.

    Use :meth:`wrap` around an objective: the run is created when the trial starts and written when
    the trial returns, is pruned or raises; its id is kept as the trial's user attribute
    ``mlflow_run_id``, so results can point at it later.

    ``background=True`` (what :func:`tune` uses): the three tracking calls (``create_run``, then
    ``log_batch`` and ``set_terminated``) go, in order, to one writer thread, so trials compute while
    the tracking server writes; the trial only waits, once it is done, for its run's id (created
    long before). Call :meth:`flush` when the trials are done. A running trial's run then has its
    trial number tag but not yet the trial's ``mlflow_run_id``: look it up by the tag.
    """

    def __init__(
        self,
        client: Any,
        *,
        experiment_id: str,
        parent_run_id: str,
        study_name: str,
        scoring: str,
        background: bool = False,
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.study_name = study_name
        self.scoring = scoring
        self.background = background
        self._executor: Any = None
        self._pending: list[tuple[int, Any]] = []
        self._lock = threading.Lock()

    def wrap(self, objective: Callable[[Any], float], *, defer_finish: bool = False) -> Callable[[Any], float]:
        """``objective`` with a child run around every call.

        With ``defer_finish=True`` the run is written only once Optuna has recorded the trial's
        state: pass :meth:`finish_callback` in ``study.optimize(callbacks=[...])``. A worker process
        that dies in between then leaves a finished trial whose run can be completed from the study
        (see :mod:`._workers`), never a finished run whose trial the heartbeat fails and retries.
        """
        import optuna

        @functools.wraps(objective)
        def logged(trial: Any) -> float:
            handle = self.start(trial)
            try:
                value = objective(trial)
            except optuna.TrialPruned:
                run_id = self._run_id(trial, handle)
                if not defer_finish:
                    self.finish(run_id, trial, STATE_PRUNED)
                raise
            except Exception as error:
                trial.set_user_attr(ATTR_ERROR, describe_error(error))
                run_id = self._run_id(trial, handle)
                if not defer_finish:
                    self.finish(run_id, trial, STATE_FAIL, error=error)
                raise
            except BaseException as error:
                trial.set_user_attr(ATTR_ERROR, describe_error(error))
                self.finish(self._run_id(trial, handle), trial, STATE_FAIL, error=error)
                raise
            run_id = self._run_id(trial, handle)
            if not defer_finish:
                self.finish(run_id, trial, STATE_COMPLETE)
            return value

        return logged

    def finish_callback(self, study: Any, trial: Any) -> None:
        """``study.optimize`` callback writing the run of a finished trial (``defer_finish=True``)."""
        run_id = trial.user_attrs.get(ATTR_RUN_ID)
        if run_id:
            self.finish(run_id, trial, trial.state.name, error=trial.user_attrs.get(ATTR_ERROR))

    def start(self, trial: Any) -> Any:
        """Create the trial's child run (RUNNING): its id (remembered on the trial), or with
        ``background=True`` a future of it (recorded on the trial when the objective is done)."""
        tags = {
            names.MLFLOW_PARENT_RUN_ID: self.parent_run_id,
            names.MLFLOW_RUN_NAME: f"trial-{trial.number:04d}",
            names.TAG_STUDY_NAME: self.study_name,
            names.TAG_TRIAL_NUMBER: str(trial.number),
            names.TAG_STEP: names.STEP_TUNE_TRIAL,
        }
        start_time = _now_ms()

        def create() -> str:
            return self.client.create_run(self.experiment_id, start_time=start_time, tags=tags).info.run_id

        if self.background:
            return self._submit(trial.number, create)
        run_id = create()
        trial.set_user_attr(ATTR_RUN_ID, run_id)
        return run_id

    def _run_id(self, trial: Any, handle: Any) -> str:
        if isinstance(handle, str):
            return handle
        run_id = handle.result()
        trial.set_user_attr(ATTR_RUN_ID, run_id)
        return run_id

    def finish(self, run_id: str, trial: Any, state: str, *, error: BaseException | str | None = None) -> None:
        """One ``log_batch`` with everything, then ``set_terminated`` (``trial``: live or frozen).

        The content is taken now; with ``background=True`` the two calls are queued to the writer.
        """
        write = self._write_call(run_id, trial, state, error)
        if self.background:
            self._submit(trial.number, write)
        else:
            write()

    def flush(self) -> None:
        """Wait for the queued writes; warn about any that failed (those runs stay RUNNING)."""
        with self._lock:
            pending, self._pending = self._pending, []
        failed = [(number, future.exception()) for number, future in pending if future.exception() is not None]
        if failed:
            number, error = failed[0]
            warnings.warn(
                MSG_WRITE_FAILED.format(n=len(failed), number=number, error=describe_error(error)), stacklevel=2
            )

    def _submit(self, number: int, call: Callable[[], Any]) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-trial-runs")
            future = self._executor.submit(call)
            self._pending.append((number, future))
        return future

    def _write_call(
        self, run_id: str, trial: Any, state: str, error: BaseException | str | None
    ) -> Callable[[], None]:
        from mlflow.entities import Metric, Param, RunTag

        family, params = split_params(trial.params)
        cv = trial.user_attrs.get(ATTR_CV, {})
        metrics = trial_metrics(self.scoring, cv.get(ATTR_FOLD_SCORES, []), cv.get(ATTR_FIT_TIME))
        now = _now_ms()
        run_params = {names.PARAM_FAMILY: family, **params, names.PARAM_TRIAL_NUMBER: trial.number} if family else {}
        tags = {
            names.MLFLOW_RUN_NAME: f"{family or 'trial'}-{trial.number:04d}",
            names.TAG_TRIAL_STATE: state,
        }
        if family:
            tags[names.TAG_MODEL_FAMILY] = family
        if error is not None:
            tags[names.TAG_TRIAL_ERROR] = error if isinstance(error, str) else describe_error(error)
        batch = {
            "metrics": [Metric(key, value, now, 0) for key, value in metrics.items()],
            "params": [Param(key, str(value)[:_MAX_PARAM_CHARS]) for key, value in run_params.items()],
            "tags": [RunTag(key, value) for key, value in tags.items()],
        }

        def write() -> None:
            self.client.log_batch(run_id, **batch)
            self.client.set_terminated(run_id, status=_RUN_STATUS[state], end_time=_now_ms())

        return write


def trial_metrics(scoring: str, fold_scores: list[float], fit_time: float | None) -> Mapping[str, float]:
    """The child run's metrics from a trial's fold scores (empty folds: only ``n_folds``)."""
    metrics: dict[str, float] = {"n_folds": float(len(fold_scores))}
    if fold_scores:
        metrics[cv_metric(scoring, "mean")] = float(np.mean(fold_scores))
        metrics[cv_metric(scoring, "std")] = float(np.std(fold_scores))
        for k, score in enumerate(fold_scores):
            metrics[cv_metric(scoring, f"fold_{k}")] = float(score)
    if fit_time is not None:
        metrics["fit_time_s"] = float(fit_time)
    return metrics
