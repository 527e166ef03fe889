"""The gate on a classifier with string labels: ROC AUC on the positive class's probability."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlflow_steward.registry import promote, register_candidate

CATEGORICAL = ("workclass", "education", "marital-status", "occupation", "relationship", "race", "sex")
NUMERIC = ("age", "hours-per-week")
TARGET = "salary"


@pytest.fixture(scope="module")
def adult(adult_path):
    frame = pd.read_csv(adult_path).sample(1600, random_state=0).reset_index(drop=True)
    frame = frame.replace("?", np.nan)
    return frame.iloc[:1000], frame.iloc[1000:].reset_index(drop=True)


def _classifier(train, y):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         list(CATEGORICAL)),
        ("num", StandardScaler(), list(NUMERIC)),
    ])
    return Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=500))]).fit(train, y)


def _register(model, test, train, name="adult"):
    import skops.io
    from mlflow.models import infer_signature

    from mlflow_steward.data import DatasetSpec

    X = test[[*CATEGORICAL, *NUMERIC]]
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(X.head(20), model.predict(X.head(20))),
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
            pip_requirements=["scikit-learn"],
        )
        path = Path(f"{run.info.run_id}.parquet")
        test.to_parquet(path)
        mlflow.log_artifact(str(path), "data")
        train_path = Path(f"{run.info.run_id}-train.parquet")
        train.to_parquet(train_path)
        mlflow.log_artifact(str(train_path), "data")
    spec = DatasetSpec(target=TARGET, task="classification", categorical=CATEGORICAL, numeric=NUMERIC,
                       missing_markers=("?",))
    return register_candidate(
        name, info.model_uri, run_id=run.info.run_id, spec_json=spec.to_json(),
        test_data_uri=f"runs:/{run.info.run_id}/data/{path.name}", dataset_digest="a" * 64,
        train_data_uri=f"runs:/{run.info.run_id}/data/{train_path.name}",
        dataset_version="aaaaaaaaaaaa", metrics={"roc_auc": 0.85}, code_version="test", task="classification",
    )


def test_classifier_gate_uses_roc_auc(mlflow_store, adult, aliases):
    train, test = adult
    X, y = train[[*CATEGORICAL, *NUMERIC]], train[TARGET]
    _register(_classifier(X, y), test, train)
    gate = {"n_resamples": 500, "slice_columns": ["sex"]}
    first = promote("adult", 1, config=gate)
    assert first.promoted and first.metric == "roc_auc"
    (threshold,) = first.thresholds
    assert threshold.requirement == "roc_auc >= 0.5" and threshold.interval.low > 0.7
    _register(_classifier(X, y.sample(frac=1.0, random_state=1).to_numpy()), test, train)
    second = promote("adult", 2, config=gate)
    assert not second.promoted and second.greater_is_better
    assert second.overall.difference.high < 0 and "lower bound" in second.reasons[0]
    assert aliases("adult") == {"production": "1", "staging": "2"}
    # a label metric works too (accuracy on the binarised labels)
    third = promote("adult", 2, config={**gate, "metric": "accuracy"})
    assert third.metric == "accuracy" and third.overall.champion > 0.7
