"""Fixtures of the scale-out tests: a PostgreSQL server, fresh databases, an ``mlflow server`` on it.

PostgreSQL: the ``postgres_server`` and ``make_database`` fixtures of ``tests/conftest.py`` (shared
with the serving tests' PostgreSQL capture sink).

Each test session gets its own databases (``CREATE DATABASE`` with a unique name, dropped at the
end): one for the MLflow server's backend store, one for the Optuna studies.
"""

from __future__ import annotations

import functools
import sys
import time
import uuid

import numpy as np
import pandas as pd
import pytest
from mlflow_steward.tuning._study import driver_url

SERVER_START_SECONDS = 120
# Lost trials are noticed after ``GRACE`` seconds without a heartbeat (defaults: 10 s / 60 s).
HEARTBEAT, GRACE = 1, 4


@pytest.fixture(scope="session")
def fast_heartbeat() -> dict[str, int]:
    """``tune``'s heartbeat arguments for tests: a lost trial is failed after 4 s, not 60."""
    return {"heartbeat_interval": HEARTBEAT, "grace_period": GRACE}


@pytest.fixture(scope="session")
def optuna_postgres(make_database) -> str:
    """The session's Optuna database (``postgresql://...``, its tables created); tests use their
    own study names."""
    import optuna

    uri = make_database("optuna")
    optuna.storages.RDBStorage(driver_url(uri)).engine.dispose()
    return uri


@pytest.fixture(scope="session")
def postgres_mlflow_server(make_database, tmp_path_factory, start_tracking_server) -> str:
    """``mlflow server`` on 127.0.0.1 (free port) with a PostgreSQL backend store and proxied
    artifacts in a directory; yields its URL, stops its process group at the end."""
    backend = driver_url(make_database("mlflow"))
    root = tmp_path_factory.mktemp("pg-server")
    with start_tracking_server(backend, root, timeout=SERVER_START_SECONDS) as url:
        yield url


@pytest.fixture
def server_experiment(postgres_mlflow_server, monkeypatch, tmp_path) -> str:
    """Tracking and registry on the PostgreSQL-backed server (env too, for subprocesses), in an
    experiment of this test's own; returns the server URL."""
    import mlflow

    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(key, postgres_mlflow_server)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(postgres_mlflow_server)
    mlflow.set_registry_uri(postgres_mlflow_server)
    mlflow.set_experiment(f"scaleout-{uuid.uuid4().hex[:8]}")
    yield postgres_mlflow_server
    while mlflow.active_run() is not None:
        mlflow.end_run()


# --- data and a pipeline the worker processes can unpickle ------------------------------------
@pytest.fixture(scope="session")
def housing_small(housing_path) -> tuple[pd.DataFrame, pd.Series]:
    """300 housing rows (X with the raw columns, y): ridge and knn trials take a blink on them."""
    frame = pd.read_csv(housing_path).sample(300, random_state=1).reset_index(drop=True)
    y = frame.pop("median_house_value")
    frame["ocean_proximity"] = frame["ocean_proximity"].astype(object)
    return frame, y


def _preprocessing():
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         make_column_selector(dtype_include=np.number)),
        ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude=np.number)),
    ])


@pytest.fixture(scope="session")
def picklable_pipeline():
    """``make_pipeline`` for the workers: sklearn's own ``make_pipeline`` with our preprocessing
    bound in (importable everywhere, so it pickles by reference)."""
    from sklearn.pipeline import make_pipeline

    return functools.partial(make_pipeline, _preprocessing())


def _pause(X, seconds):
    time.sleep(seconds)
    return X


def paused_pipeline(estimator, seconds):
    """Preprocessing, a pause of ``seconds`` at each transform, then ``estimator``: trials last
    long enough to kill a worker in the middle of one."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(_preprocessing(), FunctionTransformer(_pause, kw_args={"seconds": seconds}), estimator)


@pytest.fixture(scope="session")
def slow_pipeline():
    """``paused_pipeline`` with a 0.15 s pause (this module travels to the workers by value)."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return functools.partial(paused_pipeline, seconds=0.15)
