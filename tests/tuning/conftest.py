"""Fixtures of the tuning tests: tiny samples of housing and adult, and a plain sklearn pipeline.

The pipeline is built here with scikit-learn alone (not ``mlflow_steward.cleaning``), so these tests
only exercise ``tuning``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simple_pipeline(estimator):
    """Impute + scale numbers, impute + one-hot categories, then ``estimator``."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             make_column_selector(dtype_include=np.number)),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             make_column_selector(dtype_exclude=np.number)),
        ]
    )
    return Pipeline([("cleaning", pre), ("model", estimator)])


def _categories_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)
    return frame


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """HistGradientBoosting's OpenMP threads on 200-row folds only add spin-waiting (badly so when
    other processes share the two cores): one thread keeps these tests fast and steady."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def housing_xy(housing_path):
    """240 housing rows: X (9 raw columns, ``total_bedrooms`` has gaps in the full data), y."""
    frame = pd.read_csv(housing_path).sample(240, random_state=0).reset_index(drop=True)
    y = frame.pop("median_house_value")
    return _categories_as_object(frame), y


@pytest.fixture(scope="session")
def adult_xy(adult_path):
    """300 adult rows ('?' -> NaN): X and the string target ``salary``."""
    frame = pd.read_csv(adult_path, na_values=["?"]).sample(300, random_state=0).reset_index(drop=True)
    y = frame.pop("salary")
    return _categories_as_object(frame), y


def _child_runs(parent_run_id: str) -> list:
    import mlflow

    client = mlflow.MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    return list(
        client.search_runs(
            [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'", max_results=1000
        )
    )


def _load_study(result):
    import optuna

    return optuna.load_study(study_name=result.study_name, storage=result.storage)


@pytest.fixture
def child_runs():
    """``child_runs(parent_run_id) -> [Run]``: the runs nested under a parent."""
    return _child_runs


@pytest.fixture
def load_study():
    """``load_study(result) -> optuna.Study``: the study behind a TuningResult."""
    return _load_study


@pytest.fixture
def pipeline_factory():
    """The ``make_pipeline`` the tests pass to ``tune``."""
    return simple_pipeline
