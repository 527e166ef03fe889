"""Each trial as a nested MLflow child run, written with :class:`mlflow.MlflowClient` only.

No fluent ``mlflow.start_run`` (whose active-run stack is per thread and per process): a trial's run
is created with ``create_run(experiment_id, tags={"mlflow.parentRunId": ..., "mlflow.runName": ...})``,
filled with ONE ``log_batch`` call and closed with ``set_terminated``. That is safe from Optuna's
``n_jobs > 1`` threads and from several worker processes sharing one tracking server.

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
import time
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

    Use :meth:`wrap` around an objective: the run is created when the trial starts (its id kept as
    the trial's user attribute ``mlflow_run_id``, so results can point at it later) and written
    when the trial returns, is pruned or raises.
    """

    def __init__(
        self,
        client: Any,
        *,
        experiment_id: str,
        parent_run_id: str,
        study_name: str,
        scoring: str,
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.study_name = study_name
        self.scoring = scoring

    def wrap(self, objective: Callable[[Any], float]) -> Callable[[Any], float]:
        """``objective`` with a child run around every call."""
        import optuna

        @functools.wraps(objective)
        def logged(trial: Any) -> float:
            run_id = self.start(trial)
            try:
                value = objective(trial)
            except optuna.TrialPruned:
                self.finish(run_id, trial, STATE_PRUNED)
                raise
            except BaseException as error:  # noqa: BLE001 - logged, then re-raised unchanged
                trial.set_user_attr(ATTR_ERROR, describe_error(error))
                self.finish(run_id, trial, STATE_FAIL, error=error)
                raise
            self.finish(run_id, trial, STATE_COMPLETE)
            return value

        return logged

    def start(self, trial: Any) -> str:
        """Create the trial's child run (RUNNING) and remember its id on the trial."""
        run = self.client.create_run(
            self.experiment_id,
            start_time=_now_ms(),
            tags={
                names.MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                names.MLFLOW_RUN_NAME: f"trial-{trial.number:04d}",
                names.TAG_STUDY_NAME: self.study_name,
                names.TAG_TRIAL_NUMBER: str(trial.number),
                names.TAG_STEP: names.STEP_TUNE_TRIAL,
            },
        )
        trial.set_user_attr(ATTR_RUN_ID, run.info.run_id)
        return run.info.run_id

    def finish(self, run_id: str, trial: Any, state: str, *, error: BaseException | None = None) -> None:
        """One ``log_batch`` with everything, then ``set_terminated``."""
        from mlflow.entities import Metric, Param, RunTag

        family, params = split_params(trial.params)
        cv = trial.user_attrs.get(ATTR_CV, {})
        metrics = trial_metrics(self.scoring, cv.get(ATTR_FOLD_SCORES, []), cv.get(ATTR_FIT_TIME))
        now = _now_ms()
        run_params = {"family": family, **params, "trial_number": trial.number} if family else {}
        tags = {
            names.MLFLOW_RUN_NAME: f"{family or 'trial'}-{trial.number:04d}",
            names.TAG_TRIAL_STATE: state,
        }
        if family:
            tags[names.TAG_MODEL_FAMILY] = family
        if error is not None:
            tags[names.TAG_TRIAL_ERROR] = describe_error(error)
        self.client.log_batch(
            run_id,
            metrics=[Metric(key, value, now, 0) for key, value in metrics.items()],
            params=[Param(key, str(value)[:_MAX_PARAM_CHARS]) for key, value in run_params.items()],
            tags=[RunTag(key, value) for key, value in tags.items()],
        )
        self.client.set_terminated(run_id, status=_RUN_STATUS[state], end_time=_now_ms())


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
