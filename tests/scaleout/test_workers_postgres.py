"""Three worker processes on one PostgreSQL study, trials logged to a PostgreSQL-backed MLflow server.

The budget is exact (30 finished or pruned trials, 30 child runs under the one parent), and a worker
killed with SIGKILL in the middle of a trial costs nothing: its trial ends FAIL once its heartbeat is
overdue, its child run is closed as FAILED, its retry takes its place and the others finish the study.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow_steward import names
from mlflow_steward.tuning import tune
from mlflow_steward._compat.optuna import retried_from
from mlflow_steward.tuning._study import driver_url
from mlflow_steward.tuning._trial_logging import ATTR_RUN_ID
from mlflow_steward.tuning._workers import ATTR_WORKER
from optuna.trial import TrialState

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
N_TRIALS = 30
DONE = (TrialState.COMPLETE, TrialState.PRUNED)


def _children(parent_run_id: str) -> list:
    client = mlflow.MlflowClient()
    experiment = client.get_run(parent_run_id).info.experiment_id
    return client.search_runs([experiment], f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{parent_run_id}'",
                              max_results=1000)


def test_three_workers_share_thirty_trials(server_experiment, optuna_postgres, housing_small, picklable_pipeline):
    X, y = housing_small
    study_name = f"three-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    result = tune(X, y, task="regression", make_pipeline=picklable_pipeline, families=["ridge", "knn"],
                  n_trials=N_TRIALS, cv=2, storage=optuna_postgres, study_name=study_name, workers=3)
    assert time.monotonic() - started < 120

    study = optuna.load_study(study_name=study_name, storage=driver_url(optuna_postgres))
    assert len(study.trials) == N_TRIALS and all(t.state in DONE for t in study.trials)
    assert result.n_trials.finished + result.n_trials.pruned == N_TRIALS and result.n_trials.failed == 0
    workers = Counter(t.user_attrs[ATTR_WORKER] for t in study.trials)
    assert len(workers) >= 2, workers  # (all three, unless one started late on a busy machine)

    children = _children(result.parent_run_id)
    assert len(children) == N_TRIALS
    by_number = {int(r.data.tags[names.TAG_TRIAL_NUMBER]): r for r in children}
    assert sorted(by_number) == list(range(N_TRIALS))
    for trial in study.trials:
        run = by_number[trial.number]
        assert run.info.run_id == trial.user_attrs[ATTR_RUN_ID]
        assert run.info.status == ("FINISHED" if trial.state == TrialState.COMPLETE else "KILLED")
        assert run.data.params["trial_number"] == str(trial.number)
    client = mlflow.MlflowClient()
    parent = client.get_run(result.parent_run_id)
    assert parent.data.tags[names.TAG_STUDY_NAME] == study_name
    assert parent.data.metrics["n_trials_finished"] + parent.data.metrics["n_trials_pruned"] == N_TRIALS
    assert len(client.get_metric_history(result.parent_run_id, "best_cv_rmse_mean")) == 1  # one summary
    artifacts = {f.path for f in client.list_artifacts(result.parent_run_id, "tuning")}
    assert {"tuning/best_params.json", "tuning/oof_predictions.parquet", "tuning/optimization_history.png"} <= artifacts


def _kill_one_worker_mid_trial(storage_url: str, study_name: str, killed: dict, after: int) -> None:
    """Once ``after`` trials are done, SIGKILL a worker in the middle of a trial.

    The worker is first stopped (SIGSTOP), so nothing moves under our feet: it is killed only if its
    trial is still RUNNING with its params and its child run exists, else it is continued. Only our
    own children: the workers are subprocesses of this test process (checked in /proc).
    """
    storage = optuna.storages.RDBStorage(storage_url)
    deadline = time.monotonic() + 100
    while time.monotonic() < deadline:
        try:
            trials = optuna.load_study(study_name=study_name, storage=storage).get_trials(deepcopy=False)
        except KeyError:  # not created yet
            time.sleep(0.2)
            continue
        running = [t for t in trials if t.state == TrialState.RUNNING and t.params and ATTR_WORKER in t.user_attrs]
        if sum(t.state in DONE for t in trials) >= after and running:
            trial = running[0]
            pid = int(trial.user_attrs[ATTR_WORKER].rsplit(":", 1)[1])
            assert f"PPid:\t{os.getpid()}\n" in Path(f"/proc/{pid}/status").read_text(), "not our worker"
            os.kill(pid, signal.SIGSTOP)
            while "State:\tT" not in Path(f"/proc/{pid}/status").read_text():
                time.sleep(0.01)
            runs = mlflow.search_runs(
                filter_string=f"tags.`{names.TAG_TRIAL_NUMBER}` = '{trial.number}' and "
                f"tags.`{names.TAG_STUDY_NAME}` = '{study_name}'", output_format="list",
            )
            if storage.get_trial(trial._trial_id).state == TrialState.RUNNING and len(runs) == 1:
                os.kill(pid, signal.SIGKILL)
                killed.update(number=trial.number, pid=pid, run_id=runs[0].info.run_id)
                return
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)


def test_a_killed_worker_costs_no_trial(server_experiment, optuna_postgres, housing_small, slow_pipeline,
                                        fast_heartbeat):
    X, y = housing_small
    study_name = f"killed-{uuid.uuid4().hex[:8]}"
    killed: dict = {}
    killer = threading.Thread(
        target=_kill_one_worker_mid_trial, args=(driver_url(optuna_postgres), study_name, killed, 6), daemon=True
    )
    killer.start()
    started = time.monotonic()
    with pytest.warns(UserWarning, match=r"exited with code -9; the other workers went on"):
        result = tune(X, y, task="regression", make_pipeline=slow_pipeline, families=["ridge", "knn"],
                      n_trials=N_TRIALS, cv=2, storage=optuna_postgres, study_name=study_name, workers=3,
                      **fast_heartbeat)
    assert time.monotonic() - started < 120
    killer.join(timeout=5)
    assert killed, "no worker was killed"

    study = optuna.load_study(study_name=study_name, storage=driver_url(optuna_postgres))
    states = Counter(t.state for t in study.trials)
    assert states[TrialState.COMPLETE] + states[TrialState.PRUNED] == N_TRIALS
    assert states[TrialState.FAIL] == 1 and states[TrialState.RUNNING] == states[TrialState.WAITING] == 0
    lost = study.trials[killed["number"]]
    assert lost.state == TrialState.FAIL
    [retry] = [t for t in study.trials if retried_from(t) == lost.number]
    assert retry.state in DONE and retry.params.items() >= lost.params.items()
    assert retry.user_attrs[ATTR_WORKER] != lost.user_attrs[ATTR_WORKER]
    assert (result.n_trials.finished + result.n_trials.pruned, result.n_trials.failed) == (N_TRIALS, 1)

    children = _children(result.parent_run_id)
    assert len(children) == N_TRIALS + 1 and not [r for r in children if r.info.status == "RUNNING"]
    [lost_run] = [r for r in children if r.info.run_id == killed["run_id"]]
    assert lost_run.info.status == "FAILED"
    assert lost_run.data.tags[names.TAG_TRIAL_STATE] == "FAIL"
    assert f"lost: no heartbeat for {fast_heartbeat['grace_period']} s" in lost_run.data.tags[names.TAG_TRIAL_ERROR]
    others = [r for r in children if r.info.run_id != killed["run_id"]]
    assert Counter(r.info.status for r in others) == {
        "FINISHED": states[TrialState.COMPLETE], "KILLED": states[TrialState.PRUNED]
    }
