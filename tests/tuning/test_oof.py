"""Out-of-fold predictions: one row per training row, equal to an independent cross_val_predict."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from mlflow_steward import names
from mlflow_steward.tuning import make_cv, tune


def _logged_oof(run_id: str) -> pd.DataFrame:
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=names.ARTIFACT_OOF_PREDICTIONS)
    return pd.read_parquet(Path(path))


def test_regression_oof_matches_cross_val_predict_on_the_same_folds(mlflow_store, housing_xy, pipeline_factory):
    X, y = housing_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge", "knn"],
                      n_trials=4, cv=3, random_state=7)
    oof = _logged_oof(parent.info.run_id)
    pd.testing.assert_frame_equal(oof, result.oof_predictions)
    assert len(oof) == len(X)
    assert list(oof.columns) == ["row", "fold", "y_true", *result.per_family]
    assert oof["row"].tolist() == list(range(len(X)))
    np.testing.assert_array_equal(oof["y_true"], y.to_numpy())

    folds = KFold(n_splits=3, shuffle=True, random_state=7)
    expected_fold = np.empty(len(X), dtype=int)
    for k, (_, valid) in enumerate(folds.split(X)):
        expected_fold[valid] = k
    np.testing.assert_array_equal(oof["fold"], expected_fold)
    for family, best in result.per_family.items():
        independent = cross_val_predict(pipeline_factory(result.estimator_for(family)), X, y, cv=folds)
        np.testing.assert_allclose(oof[family], independent, rtol=1e-10)
        # the fold means of the OOF predictions reproduce the trial's CV score
        rmse = [np.sqrt(np.mean((oof.y_true[oof.fold == k] - oof[family][oof.fold == k]) ** 2)) for k in range(3)]
        assert np.mean(rmse) == pytest.approx(best.score)


def test_binary_oof_is_the_positive_class_probability(mlflow_store, adult_xy, pipeline_factory):
    X, y = adult_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="classification", make_pipeline=pipeline_factory,
                      families=["logistic_regression", "knn"], n_trials=3, cv=3)
    oof = _logged_oof(parent.info.run_id)
    assert len(oof) == len(X)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=42)
    assert type(make_cv("classification", 3, 42)) is StratifiedKFold
    for family in result.per_family:
        proba = cross_val_predict(pipeline_factory(result.estimator_for(family)), X, y, cv=folds,
                                  method="predict_proba")
        np.testing.assert_allclose(oof[family], proba[:, 1], rtol=1e-10)  # classes_ sorted: ">50K" second
    assert set(oof["y_true"]) == {"<=50K", ">50K"}


def test_multiclass_oof_has_one_column_per_class(mlflow_store, housing_xy, pipeline_factory):
    X, y = housing_xy
    X = X.drop(columns="ocean_proximity")
    labels = housing_xy[0]["ocean_proximity"].replace({"ISLAND": "NEAR BAY", "NEAR OCEAN": "NEAR BAY"})
    result = tune(X, labels, task="classification", make_pipeline=pipeline_factory, families=["knn"],
                  n_trials=2, cv=3, scoring="log_loss")
    classes = sorted(labels.unique())
    assert result.direction == "minimize"
    assert list(result.oof_predictions.columns[3:]) == [f"knn[{c}]" for c in classes]
    np.testing.assert_allclose(result.oof_predictions.iloc[:, 3:].sum(axis=1), 1.0)
