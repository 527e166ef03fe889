"""Fixtures of the ensemble tests: one MLflow store, tuned once per session, shared by the tests.

Tuning takes seconds even on a few hundred rows, so the tunings are made once (session scope) in
their own SQLite store; each test points MLflow at that store (``ensemble_store``) and adds its own
runs to it. The tunings go through the workflow's clean and tune steps, as users make them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest


@dataclass(frozen=True)
class Store:
    uri: str
    experiment_id: str
    root: Path


@dataclass(frozen=True)
class Tuned:
    data_run_id: str
    tune_run_id: str


@pytest.fixture(scope="session")
def _store(tmp_path_factory, _template_store) -> Store:
    import shutil

    root = tmp_path_factory.mktemp("ensemble-store")
    shutil.copy(_template_store, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment_id = mlflow.MlflowClient(tracking_uri=uri).create_experiment(
        "ensemble-tests", artifact_location=(root / "artifacts").as_uri()
    )
    return Store(uri=uri, experiment_id=experiment_id, root=root)


def _point_at(store: Store, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", store.uri)
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)
    mlflow.set_experiment(experiment_id=store.experiment_id)


def _tune(store: Store, csv: Path, spec, families, *, n_trials: int, cv: int, name: str, cleaning=None) -> Tuned:
    from mlflow_steward.workflow import PipelineConfig, clean_step, tune_step

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(store.root)
        _point_at(store, monkeypatch)
        config = PipelineConfig(
            data=str(csv), spec=spec, cleaning=cleaning, families=tuple(families), n_trials=n_trials, cv=cv,
            storage=f"sqlite:///{store.root / 'optuna.db'}", study_name=name, reuse=False,
        )
        data = clean_step(config, echo=lambda _: None)
        tune = tune_step(config, data.run_id, echo=lambda _: None)
        while mlflow.active_run() is not None:
            mlflow.end_run()
    return Tuned(data_run_id=data.run_id, tune_run_id=tune.run_id)


@pytest.fixture(scope="session")
def housing_csv(housing_path, tmp_path_factory) -> Path:
    """400 housing rows (320 train / 80 test after the split)."""
    path = tmp_path_factory.mktemp("housing") / "housing-400.csv"
    pd.read_csv(housing_path).sample(400, random_state=1).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def tuned_housing(_store, housing_csv) -> Tuned:
    """ridge + knn + random_forest, 6 optuna trials, 3 folds."""
    from mlflow_steward.data import DatasetSpec

    spec = DatasetSpec(target="median_house_value", task="regression")
    return _tune(_store, housing_csv, spec, ["ridge", "knn", "random_forest"], n_trials=6, cv=3, name="housing")


def _clean_and_fake_trial(store: Store, csv: Path, spec, family: str, params: dict, cleaning=None) -> Tuned:
    """A real clean run, and a hand-made tuning parent + COMPLETE trial child run on it (the member
    checks read only tags and params, so no need to spend seconds tuning)."""
    from mlflow_steward import names
    from mlflow_steward.workflow import PipelineConfig, clean_step

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(store.root)
        _point_at(store, monkeypatch)
        config = PipelineConfig(data=str(csv), spec=spec, cleaning=cleaning, reuse=False)
        data = clean_step(config, echo=lambda _: None)
        with mlflow.start_run(tags={names.TAG_STEP: names.STEP_TUNE, names.TAG_DATA_RUN: data.run_id}) as parent:
            pass
        with mlflow.start_run(
            tags={
                names.MLFLOW_PARENT_RUN_ID: parent.info.run_id,
                names.TAG_STEP: names.STEP_TUNE_TRIAL,
                names.TAG_TRIAL_STATE: "COMPLETE",
            }
        ):
            mlflow.log_params({"family": family, **params, "trial_number": 0})
            mlflow.log_metric("cv_score_mean", 0.5)
    return Tuned(data_run_id=data.run_id, tune_run_id=parent.info.run_id)


@pytest.fixture(scope="session")
def tuned_fewer_columns(_store, housing_csv) -> Tuned:
    """A ridge trial on the same rows but only three numeric features."""
    from mlflow_steward.data import DatasetSpec

    spec = DatasetSpec(
        target="median_house_value", task="regression", categorical=(),
        numeric=("median_income", "housing_median_age", "total_rooms"),
    )
    return _clean_and_fake_trial(_store, housing_csv, spec, "ridge", {"alpha": 1.0})


@pytest.fixture(scope="session")
def adult_csv(adult_path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("adult") / "adult-400.csv"
    pd.read_csv(adult_path).sample(400, random_state=1).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def classified_adult(_store, adult_csv) -> Tuned:
    """A random_forest trial (a family of both tasks) on adult: a classification run."""
    from mlflow_steward.data import DatasetSpec

    spec = DatasetSpec(target="salary", task="classification", missing_markers=("?",))
    return _clean_and_fake_trial(_store, adult_csv, spec, "random_forest", {"n_estimators": 20})


@pytest.fixture(scope="session")
def tuned_adult(_store, adult_csv) -> Tuned:
    """logistic_regression + knn + random_forest tuned on 400 adult rows (classification)."""
    from mlflow_steward.cleaning import CleaningConfig
    from mlflow_steward.data import DatasetSpec

    spec = DatasetSpec(target="salary", task="classification", missing_markers=("?",))
    cleaning = CleaningConfig(missing_markers=("?",))
    families = ["logistic_regression", "knn", "random_forest"]
    return _tune(_store, adult_csv, spec, families, n_trials=6, cv=3, name="adult", cleaning=cleaning)


@pytest.fixture
def ensemble_store(_store, monkeypatch, tmp_path) -> Store:
    """MLflow pointed at the shared ensemble store for this test (cwd: the test's tmp_path)."""
    monkeypatch.chdir(tmp_path)
    _point_at(_store, monkeypatch)
    yield _store
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture(scope="session")
def stacked_housing(_store, tuned_housing):
    """A stacking ensemble of the housing tuning's family bests, built once (outcome.model in memory)."""
    from mlflow_steward.ensemble import build_and_compare

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(_store.root)
        _point_at(_store, monkeypatch)
        outcome = build_and_compare(
            tuned_housing.tune_run_id, method="stacking", n_resamples=500, echo=lambda _: None
        )
        while mlflow.active_run() is not None:
            mlflow.end_run()
    return outcome
