"""Batch fixtures: registered housing/adult models (our cleaning inside), their test sets, a Spark session.

The models are fitted and registered once per test session in their own SQLite store (scoring only
reads the registry); each test that needs the store gets its URI set through ``registry``.

Spark: one ``local[2]`` session for the whole test session (2 shuffle partitions, no UI, bound to
127.0.0.1). Tests marked ``spark`` skip with a reason only outside CI when pyspark or Java is
missing; in CI (``CI`` set) they must run, so a missing piece fails them instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

HOUSING_TARGET = "median_house_value"
ADULT_TARGET = "salary"


@dataclass(frozen=True)
class Registered:
    """A registered model with alias ``production`` and the rows it was tested on."""

    name: str
    version: str
    uri: str  # models:/NAME@production
    test: pd.DataFrame  # features + target + an ``id`` key column
    test_path: Path  # the same rows as Parquet
    target: str


def _fit_and_register(frame: pd.DataFrame, *, target: str, task: str, name: str, estimator, directory: Path,
                      experiment: str, markers: tuple[str, ...] = ()) -> Registered:  # fmt: skip
    import mlflow

    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline
    from mlflow_steward.data import DatasetSpec, split_train_test
    from mlflow_steward.monitoring import fit_reference_profile
    from mlflow_steward.serving import log_pipeline_model

    spec = DatasetSpec(target=target, task=task).resolve(frame)
    train, test = split_train_test(frame, spec, random_state=0)
    features = list(spec.feature_columns())
    cleaning = build_cleaning_pipeline(list(spec.numeric), list(spec.categorical),
                                       CleaningConfig(missing_markers=markers))  # fmt: skip
    model = build_model_pipeline(cleaning, estimator).fit(train[features], train[target])
    profile = fit_reference_profile(model, train[features], test[features])  # as the train step does
    with mlflow.start_run(experiment_id=experiment):  # no active experiment left set for other tests
        packaged = log_pipeline_model(model, input_example=train[features].head(5), registered_model_name=name,
                                      reference_profile=profile.to_dict())  # fmt: skip
    client = mlflow.MlflowClient()
    version = str(max(int(v.version) for v in client.search_model_versions(f"name = '{name}'")))
    client.set_registered_model_alias(name, "production", version)
    test = test.reset_index(drop=True)
    test.insert(0, "id", range(len(test)))
    path = directory / f"{name}-test.parquet"
    test.to_parquet(path, index=False)
    assert packaged.model_uri
    return Registered(name=name, version=version, uri=f"models:/{name}@production", test=test, test_path=path,
                      target=target)  # fmt: skip


@pytest.fixture(scope="session")
def _batch_store(tmp_path_factory, _template_store) -> str:
    root = tmp_path_factory.mktemp("batch-store")
    db = root / "mlflow.db"
    shutil.copy(_template_store, db)
    return f"sqlite:///{db}"


@pytest.fixture
def registry(_batch_store, monkeypatch, tmp_path):
    """Point MLflow (and subprocesses) at the session's batch store; work in ``tmp_path``."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", _batch_store)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", _batch_store)
    monkeypatch.delenv("STEWARD_CAPTURE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(_batch_store)
    mlflow.set_registry_uri(_batch_store)
    yield _batch_store
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.fixture(scope="session")
def _models(_batch_store, housing_path, adult_path, tmp_path_factory) -> dict[str, Registered]:
    import mlflow
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    directory = tmp_path_factory.mktemp("batch-models")
    mlflow.set_tracking_uri(_batch_store)
    mlflow.set_registry_uri(_batch_store)
    experiment = mlflow.create_experiment("batch", artifact_location=(directory / "artifacts").as_uri())
    try:
        housing = pd.read_csv(housing_path)
        adult = pd.read_csv(adult_path).sample(6000, random_state=0).reset_index(drop=True)
        return {
            "housing": _fit_and_register(
                housing, target=HOUSING_TARGET, task="regression", name="batch-housing", directory=directory,
                experiment=experiment,
                estimator=RandomForestRegressor(n_estimators=20, max_depth=12, random_state=0, n_jobs=1),
            ),
            "adult": _fit_and_register(
                adult, target=ADULT_TARGET, task="classification", name="batch-adult", directory=directory,
                experiment=experiment,
                estimator=RandomForestClassifier(n_estimators=20, max_depth=10, random_state=0, n_jobs=1),
                markers=("?",),
            ),
        }  # fmt: skip
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])


@pytest.fixture
def housing(_models, registry) -> Registered:
    return _models["housing"]


@pytest.fixture
def adult(_models, registry) -> Registered:
    return _models["adult"]


def _spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[test]' installs the spark extra)"
    if not (shutil.which("java") or (os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists())):
        return "no Java found (Spark 4 needs Java 17: apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the test session."""
    reason = _spark_missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"spark tests must run in CI: {reason}")
        pytest.skip(f"spark tests skipped outside CI: {reason}")
    from mlflow_steward.batch import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
