"""The persisted study: resuming adds trials; another config is refused; storage names."""

from __future__ import annotations

import warnings

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.tuning import tune
from mlflow_steward.tuning._parent import MSG_PARENT_PARAM_CONFLICT
from mlflow_steward.tuning._study import MSG_STUDY_MISMATCH, describe_storage


def test_resume_adds_trials_to_the_same_study(mlflow_store, housing_xy, pipeline_factory, child_runs, load_study,
                                              tmp_path):
    X, y = housing_xy
    kwargs = dict(task="regression", make_pipeline=pipeline_factory, families=["ridge", "knn"], cv=3,
                  storage_dir=tmp_path / "studies")
    parent = mlflow.MlflowClient().create_run(mlflow.get_experiment_by_name("test").experiment_id)
    pid = parent.info.run_id
    first = tune(X, y, n_trials=5, parent_run_id=pid, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # best_* params may conflict: tested below
        second = tune(X, y, n_trials=5, parent_run_id=pid, **kwargs)
    assert second.study_name == first.study_name
    assert second.storage == f"sqlite:///{(tmp_path / 'studies' / 'optuna.db').resolve()}"
    study = load_study(second)
    assert len(study.trials) == 10 == second.n_trials.total
    children = child_runs(pid)
    assert sorted(int(r.data.tags[names.TAG_TRIAL_NUMBER]) for r in children) == list(range(10))
    assert {r.info.run_id for r in children} == {t.user_attrs["mlflow_run_id"] for t in study.trials}
    history = mlflow.MlflowClient().get_metric_history(pid, "best_cv_rmse_mean")
    assert [m.step for m in history] == [5, 10]
    assert history[-1].value == pytest.approx(second.best_score) and second.best_score <= first.best_score


def test_a_study_created_under_other_settings_is_refused(mlflow_store, housing_xy, pipeline_factory):
    X, y = housing_xy
    result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge"], n_trials=1, cv=2,
                  study_name="fixed")
    with pytest.raises(StewardInputError) as error:
        tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge"], n_trials=1, cv=3,
             study_name="fixed")
    assert str(error.value) == MSG_STUDY_MISMATCH.format(study="fixed", storage=result.storage, key="cv", old=2,
                                                         new=3)


def test_parent_params_that_cannot_change_warn(mlflow_store, housing_xy, pipeline_factory):
    import dataclasses

    from mlflow_steward.tuning import get_family

    X, y = housing_xy
    ridge = get_family("regression", "ridge")
    with mlflow.start_run() as parent:
        tune(X, y, task="regression", make_pipeline=pipeline_factory, strategy="grid", cv=2, study_name="a",
             families=[dataclasses.replace(ridge, grid={"alpha": (0.1,)})])
        with pytest.warns(UserWarning) as caught:
            result = tune(X, y, task="regression", make_pipeline=pipeline_factory, strategy="grid", cv=2,
                          study_name="b", families=[dataclasses.replace(ridge, grid={"alpha": (100.0,)})])
    expected = MSG_PARENT_PARAM_CONFLICT.format(run_id=parent.info.run_id, keys="best_alpha, study_name")
    assert expected in [str(w.message) for w in caught]
    run = mlflow.get_run(parent.info.run_id)
    assert run.data.params["best_alpha"] == "0.1"
    assert run.data.tags[names.TAG_BEST_PARAMS] == '{"family": "ridge", "alpha": 100.0}'
    assert result.best_params == {"alpha": 100.0}


def test_storage_urls_are_logged_without_password():
    assert describe_storage("postgresql://steward:s3cret@db:5432/optuna") == "postgresql://steward:***@db:5432/optuna"
    assert describe_storage("sqlite:////tmp/x/optuna.db") == "sqlite:////tmp/x/optuna.db"
