"""Worker processes on one machine (SQLite study and tracking store): exact budget, one parent."""

from __future__ import annotations

import warnings
from collections import Counter

import mlflow
import optuna
import pytest
from mlflow_steward import names
from mlflow_steward.tuning import get_family, tune
from mlflow_steward.tuning._workers import ATTR_WORKER, worker_identity
from optuna.trial import TrialState

pytestmark = pytest.mark.e2e


def _children(parent_run_id: str) -> list:
    client = mlflow.MlflowClient()
    experiment = client.get_run(parent_run_id).info.experiment_id
    return client.search_runs([experiment], f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{parent_run_id}'",
                              max_results=1000)


def test_two_workers_with_two_threads_each_run_exactly_n_trials(mlflow_store, tmp_path, housing_small,
                                                               picklable_pipeline):
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    result = tune(X, y, task="regression", make_pipeline=picklable_pipeline, families=["ridge", "knn"], n_trials=10,
                  cv=2, storage=storage, study_name="local", workers=2, n_jobs=2)
    study = optuna.load_study(study_name="local", storage=storage)
    states = Counter(t.state for t in study.trials)
    assert len(study.trials) == 10 == states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    assert result.n_trials.total == 10
    ran = {t.user_attrs[ATTR_WORKER] for t in study.trials}
    assert worker_identity() not in ran and 1 <= len(ran) <= 2  # the coordinator runs no trial
    children = _children(result.parent_run_id)
    assert sorted(int(r.data.tags[names.TAG_TRIAL_NUMBER]) for r in children) == list(range(10))
    assert {r.info.run_id for r in children} == {t.user_attrs["mlflow_run_id"] for t in study.trials}
    expected = {t.number: "FINISHED" if t.state == TrialState.COMPLETE else "KILLED" for t in study.trials}
    assert {int(r.data.tags[names.TAG_TRIAL_NUMBER]): r.info.status for r in children} == expected
    client = mlflow.MlflowClient()
    assert len(client.get_metric_history(result.parent_run_id, "best_cv_rmse_mean")) == 1  # summary once
    artifacts = {f.path for f in client.list_artifacts(result.parent_run_id, "tuning")}
    assert {"tuning/best_params.json", "tuning/oof_predictions.parquet"} <= artifacts


def test_grid_points_are_shared_out_once_each(mlflow_store, tmp_path, housing_small, picklable_pipeline):
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    points = len(get_family("regression", "ridge").grid_points()) + len(get_family("regression", "knn").grid_points())
    result = tune(X, y, task="regression", make_pipeline=picklable_pipeline, families=["ridge", "knn"],
                  strategy="grid", cv=2, storage=storage, study_name="grid", workers=2)
    study = optuna.load_study(study_name="grid", storage=storage)
    assert len(study.trials) == points == result.n_trials.finished
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == points
    assert len(_children(result.parent_run_id)) == points


def test_resuming_with_workers_adds_n_trials(mlflow_store, tmp_path, housing_small, picklable_pipeline):
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    kwargs = dict(task="regression", make_pipeline=picklable_pipeline, families=["ridge"], cv=2, storage=storage,
                  study_name="resume")
    first = tune(X, y, n_trials=3, **kwargs)  # in this process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # best_* params of the parent may change (tuning's tests)
        second = tune(X, y, n_trials=4, workers=1, parent_run_id=first.parent_run_id, **kwargs)
    assert second.n_trials.total == 7
    assert len(_children(first.parent_run_id)) == 7
