"""Shared fixtures: an isolated MLflow store per test, and the shared datasets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs with ../shared beside the clone")
        pytest.skip(f"{path} not found (tests read ../shared/data beside the repository)")
    return path


@pytest.fixture(scope="session")
def housing_path() -> Path:
    """California housing: 20,640 rows, target median_house_value, categorical ocean_proximity."""
    return _shared_file("housing.csv")


@pytest.fixture(scope="session")
def adult_path() -> Path:
    """Census income: 32,561 rows, target salary, '?' marks missing values."""
    return _shared_file("adult.csv")


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory) -> Path:
    """An MLflow SQLite database with its tables created once (migrations take ~2 s each time)."""
    import mlflow

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{path}")
    client.search_experiments()
    return path


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch, _template_store) -> str:
    """A fresh SQLite tracking store and registry for one test, artifacts under ``tmp_path``.

    Sets ``MLFLOW_TRACKING_URI`` (so subprocesses inherit it), makes an experiment ``test`` with
    its artifacts under ``tmp_path/artifacts`` active, and returns the tracking URI.
    """
    import mlflow

    db = tmp_path / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment_id = mlflow.create_experiment("test", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()
