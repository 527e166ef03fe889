"""A second machine joins a running study; bad joins and bad worker options are refused, by name."""

from __future__ import annotations

import threading
import time
from collections import Counter

import mlflow
import optuna
import pytest
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.tuning import join_study, tune
from mlflow_steward.tuning._budget import ATTR_TARGET
from mlflow_steward.tuning._study import ATTR_CONFIG, data_digest
from mlflow_steward.tuning._workers import (
    ATTR_WORKER,
    MSG_BAD_GRACE,
    MSG_BAD_HEARTBEAT,
    MSG_BAD_WORKERS,
    MSG_JOIN_DATA,
    MSG_JOIN_FAMILIES,
    MSG_NO_STUDY,
    MSG_NO_TARGET,
    MSG_NOT_PICKLABLE,
    MSG_WORKERS_STORAGE,
)


def _parent() -> str:
    return mlflow.MlflowClient().create_run(mlflow.get_experiment_by_name("test").experiment_id).info.run_id


@pytest.mark.e2e
def test_a_second_machine_joins_and_shares_the_budget(mlflow_store, tmp_path, housing_small, slow_pipeline):
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.storages.RDBStorage(storage)  # tables first: the poll below and the coordinator would race on them
    parent = _parent()
    outcome: dict = {}

    def coordinator() -> None:
        outcome["result"] = tune(X, y, task="regression", make_pipeline=slow_pipeline, families=["ridge", "knn"],
                                 n_trials=16, cv=2, storage=storage, study_name="joined", parent_run_id=parent,
                                 workers=1)

    thread = threading.Thread(target=coordinator)
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the coordinator has set the study's target
        try:
            if ATTR_TARGET in optuna.load_study(study_name="joined", storage=storage).user_attrs:
                break
        except KeyError:
            pass
        time.sleep(0.2)
    report = join_study(X, y, make_pipeline=slow_pipeline, storage=storage, study_name="joined",
                        parent_run_id=parent, workers=1)
    thread.join(timeout=120)
    result = outcome["result"]

    study = optuna.load_study(study_name="joined", storage=storage)
    assert len(study.trials) == 16 == report.complete + report.pruned == result.n_trials.total
    by_worker = Counter(t.user_attrs[ATTR_WORKER] for t in study.trials)
    assert len(by_worker) == 2 and report.trial_numbers  # both machines ran trials
    ours = {study.trials[n].user_attrs[ATTR_WORKER] for n in report.trial_numbers}
    assert len(ours) == 1 and by_worker[ours.pop()] == len(report.trial_numbers)
    assert report.exit_codes == (0,) and report.parent_run_id == parent
    children = mlflow.MlflowClient().search_runs(
        [mlflow.get_experiment_by_name("test").experiment_id], f"tags.`mlflow.parentRunId` = '{parent}'"
    )
    assert len(children) == 16


@pytest.fixture
def study_with_target(tmp_path, housing_small):
    """A worker study in SQLite (config and target set as ``tune(..., workers=N)`` sets them)."""
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="target", storage=storage)
    study.set_user_attr(ATTR_CONFIG, {
        "task": "regression", "strategy": "optuna", "scoring": "rmse", "direction": "minimize", "cv": 2,
        "random_state": 42, "families": ["ridge"], "data_digest": data_digest(X, y.to_numpy(dtype=float)),
    })
    study.set_user_attr(ATTR_TARGET, 4)
    return storage


def test_joining_needs_the_same_rows_and_families(mlflow_store, study_with_target, housing_small,
                                                  picklable_pipeline):
    X, y = housing_small
    kwargs = dict(make_pipeline=picklable_pipeline, storage=study_with_target, study_name="target",
                  parent_run_id=_parent())
    with pytest.raises(StewardInputError) as error:
        join_study(X.iloc[:-1], y.iloc[:-1], **kwargs)
    want = data_digest(X, y.to_numpy(dtype=float))
    have = data_digest(X.iloc[:-1], y.iloc[:-1].to_numpy(dtype=float))
    assert str(error.value) == MSG_JOIN_DATA.format(study="target", have=have, want=want)
    with pytest.raises(StewardInputError) as error:
        join_study(X, y, families=["knn"], **kwargs)
    assert str(error.value) == MSG_JOIN_FAMILIES.format(study="target", want=["ridge"], have=["knn"])


def test_joining_needs_a_worker_study(mlflow_store, tmp_path, housing_small, picklable_pipeline):
    X, y = housing_small
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    kwargs = dict(make_pipeline=picklable_pipeline, storage=storage, parent_run_id=_parent())
    with pytest.raises(StewardInputError) as error:
        join_study(X, y, study_name="nope", **kwargs)
    assert str(error.value) == MSG_NO_STUDY.format(study="nope", storage=storage)
    optuna.create_study(study_name="plain", storage=storage)
    with pytest.raises(StewardInputError) as error:
        join_study(X, y, study_name="plain", **kwargs)
    assert str(error.value) == MSG_NO_TARGET.format(study="plain")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, MSG_BAD_WORKERS.format(workers=0)),
        ({"workers": True}, MSG_BAD_WORKERS.format(workers=True)),
        ({"workers": "2"}, MSG_BAD_WORKERS.format(workers="2")),
        ({"workers": 2, "heartbeat_interval": -1}, MSG_BAD_HEARTBEAT.format(value=-1)),
        ({"workers": 2, "heartbeat_interval": 5, "grace_period": 5}, MSG_BAD_GRACE.format(interval=5, value=5)),
        ({"workers": 2, "storage": "sqlite:///:memory:"}, MSG_WORKERS_STORAGE.format(storage="sqlite:///:memory:")),
    ],
)
def test_bad_worker_options_are_refused_before_anything_runs(mlflow_store, housing_small, picklable_pipeline,
                                                             options, message):
    X, y = housing_small
    with pytest.raises(StewardInputError) as error:
        tune(X, y, task="regression", make_pipeline=picklable_pipeline, families=["ridge"], n_trials=1, cv=2,
             **options)
    assert str(error.value) == message
    assert mlflow.search_runs(output_format="list") == []


def test_an_in_memory_storage_object_cannot_reach_workers(mlflow_store, housing_small, picklable_pipeline):
    X, y = housing_small
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(StewardInputError) as error:
        tune(X, y, task="regression", make_pipeline=picklable_pipeline, families=["ridge"], n_trials=1, cv=2,
             storage=storage, workers=1)
    assert str(error.value) == MSG_WORKERS_STORAGE.format(storage=storage)


def test_an_unpicklable_pipeline_factory_is_named(mlflow_store, tmp_path, housing_small):
    import functools

    X, y = housing_small
    factory = functools.partial(lambda lock, estimator: estimator, threading.Lock())
    with pytest.raises(StewardInputError) as error:
        tune(X, y, task="regression", make_pipeline=factory, families=["ridge"], n_trials=1, cv=2,
             storage=f"sqlite:///{tmp_path / 'o.db'}", workers=1)
    assert str(error.value) == MSG_NOT_PICKLABLE.format(error="cannot pickle '_thread.lock' object")
