"""Fixtures of the registry tests: small housing models, candidate registration, an MLflow server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

TARGET = "median_house_value"
CATEGORICAL = ("ocean_proximity",)
NUMERIC = (
    "longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
    "population", "households", "median_income",
)
MODEL = "housing"
#: Small and quick: few resamples, two slice columns (the default slicing is tested once).
FAST_GATE = {"n_resamples": 500, "slice_columns": ["ocean_proximity", "median_income"]}


@dataclass(frozen=True)
class HousingSplit:
    train: pd.DataFrame
    test: pd.DataFrame

    def spec_json(self, numeric: tuple[str, ...] = NUMERIC) -> str:
        from mlflow_steward.data import DatasetSpec

        return DatasetSpec(target=TARGET, task="regression", categorical=CATEGORICAL, numeric=numeric).to_json()


@pytest.fixture(scope="session")
def housing_split(housing_path) -> HousingSplit:
    frame = pd.read_csv(housing_path).sample(2000, random_state=0).reset_index(drop=True)
    return HousingSplit(frame.iloc[:1400].reset_index(drop=True), frame.iloc[1400:].reset_index(drop=True))


def make_pipeline(estimator: Any, numeric: tuple[str, ...] = NUMERIC):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
            ("num", SimpleImputer(strategy="median"), list(numeric)),
        ]
    )
    return Pipeline([("prep", columns), ("model", estimator)])


@pytest.fixture(scope="session")
def housing_models(housing_split) -> dict[str, Any]:
    """Fitted once per session: linear (v1-like), two forests (better), a shuffled-target forest
    (worse), and a linear model without ``total_bedrooms`` (different signature)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    train = housing_split.train
    X, y = train[[*CATEGORICAL, *NUMERIC]], train[TARGET]
    shuffled = y.sample(frac=1.0, random_state=3).to_numpy()
    narrow = tuple(c for c in NUMERIC if c != "total_bedrooms")
    forest = lambda seed: RandomForestRegressor(n_estimators=20, min_samples_leaf=3, random_state=seed, n_jobs=1)  # noqa: E731
    return {
        "linear": make_pipeline(LinearRegression()).fit(X, y),
        "forest": make_pipeline(forest(0)).fit(X, y),
        "forest2": make_pipeline(forest(1)).fit(X, y),
        "shuffled": make_pipeline(forest(2)).fit(X, shuffled),
        "narrow": make_pipeline(LinearRegression(), narrow).fit(train[[*CATEGORICAL, *narrow]], y),
    }


def log_and_register(
    split: HousingSplit, model: Any, *, name: str = MODEL, numeric: tuple[str, ...] = NUMERIC,
    record_training: bool = True,
) -> Any:
    """Log ``model`` with its test and training sets in a run and register it through
    ``register_candidate`` (``record_training=False``: as the previous release did, without
    ``train_data_uri``)."""
    import mlflow
    import mlflow.sklearn
    import skops.io
    from mlflow.models import infer_signature

    from mlflow_steward.registry import register_candidate

    features = [*CATEGORICAL, *numeric]
    X = split.test[features]
    pred = model.predict(X)
    rmse = float(np.sqrt(np.mean((split.test[TARGET].to_numpy() - pred) ** 2)))
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X.head(20), pred[:20]),
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
            pip_requirements=["scikit-learn"],
        )
        uris = {}
        for which, frame in (("test", split.test), ("train", split.train)):
            tmp = Path(f"{run.info.run_id}-{which}.parquet")
            frame[[*features, TARGET]].to_parquet(tmp)
            mlflow.log_artifact(str(tmp), "data")
            tmp.unlink()
            uris[which] = f"runs:/{run.info.run_id}/data/{tmp.name}"
    return register_candidate(
        name, info.model_uri, run_id=run.info.run_id, spec_json=split.spec_json(numeric),
        test_data_uri=uris["test"], train_data_uri=uris["train"] if record_training else None,
        dataset_digest="d" * 64, dataset_version="dddddddddddd",
        metrics={"rmse": rmse, "rmse_ci_low": rmse * 0.95, "rmse_ci_high": rmse * 1.05, "slice/a=b/rmse": 1.0},
        code_version="test", task="regression",
    )


@pytest.fixture
def register(mlflow_store, log_candidate) -> Callable[..., Any]:
    """``register("forest")`` -> ModelVersion of model ``housing`` in this test's store."""
    return log_candidate


@pytest.fixture(scope="session")
def _production_template(tmp_path_factory, housing_split, housing_models, _template_store) -> Path:
    """Built once: v1 (linear) promoted to production, v2 (forest) registered as staging.

    The tests copy only the database; artifacts stay in this directory (new runs add files here,
    under their own run ids).
    """
    import shutil

    import mlflow

    root = tmp_path_factory.mktemp("production-template")
    db = root / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    saved = {k: os.environ.pop(k, None) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        experiment_id = mlflow.create_experiment("test", artifact_location=(root / "artifacts").as_uri())
        mlflow.set_experiment(experiment_id=experiment_id)
        from mlflow_steward.registry import promote

        log_and_register(housing_split, housing_models["linear"])
        promote(MODEL, 1, config=FAST_GATE)
        log_and_register(housing_split, housing_models["forest"])
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    return db


@pytest.fixture
def with_production(mlflow_store, _production_template, tmp_path, monkeypatch) -> str:
    """A store where v1 (linear) is production (with its history) and v2 (forest) is staging."""
    import shutil

    import mlflow

    db = tmp_path / "production.db"
    shutil.copy(_production_template, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment("test")
    return uri


@pytest.fixture
def log_candidate(housing_split, housing_models) -> Callable[..., Any]:
    """Like ``register`` but without a store of its own: registers in whatever store is current."""

    def _log(key: str, *, name: str = MODEL) -> Any:
        numeric = tuple(c for c in NUMERIC if c != "total_bedrooms") if key == "narrow" else NUMERIC
        return log_and_register(housing_split, housing_models[key], name=name, numeric=numeric)

    return _log


def _aliases(name: str = MODEL) -> dict[str, str]:
    import mlflow

    return {k: str(v) for k, v in mlflow.MlflowClient().get_registered_model(name).aliases.items()}


@pytest.fixture
def aliases() -> Callable[..., dict[str, str]]:
    """``aliases()`` -> {alias: version} of model ``housing`` (or the name given) right now."""
    return _aliases


@pytest.fixture
def fast_gate() -> dict[str, Any]:
    """A quick gate config: 500 resamples, slices on ocean_proximity and median_income only."""
    return dict(FAST_GATE)


# --- a real tracking server ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory, start_tracking_server):
    """``mlflow server`` on a free port with a SQLite backend and proxied artifacts; yields its URL."""
    root = tmp_path_factory.mktemp("server")
    with start_tracking_server(f"sqlite:///{root / 'db.sqlite'}", root) as url:
        yield url


@pytest.fixture
def server_store(mlflow_server, monkeypatch, tmp_path) -> str:
    """This test talks to the module's ``mlflow server`` over HTTP, in an experiment of its own."""
    import uuid

    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", mlflow_server)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(mlflow_server)
    mlflow.set_registry_uri(mlflow_server)
    mlflow.set_experiment(f"server-{uuid.uuid4().hex[:8]}")
    yield mlflow_server
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def register_split(housing_split, housing_models) -> Callable[..., Any]:
    """``register_split("forest", train=..., test=..., record_training=False)``: like ``register`` with
    the recorded training and test sets replaced (defaults: the session's split)."""

    def _log(key: str, *, train: pd.DataFrame | None = None, test: pd.DataFrame | None = None,
             record_training: bool = True) -> Any:
        split = HousingSplit(housing_split.train if train is None else train,
                             housing_split.test if test is None else test)
        return log_and_register(split, housing_models[key], record_training=record_training)

    return _log
