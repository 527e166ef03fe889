"""Frames and fitted cleaning pipelines shared by the cleaning tests (read with pandas directly)."""

from __future__ import annotations

import pandas as pd
import pytest

from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline

HOUSING_TARGET = "median_house_value"
HOUSING_CATEGORICAL = ["ocean_proximity"]
HOUSING_RATIOS = (
    ("rooms_per_house", "total_rooms", "households"),
    ("bedrooms_ratio", "total_bedrooms", "total_rooms"),
    ("people_per_house", "population", "households"),
)
ADULT_TARGET = "salary"
ADULT_NUMERIC = ["age", "hours-per-week"]


@pytest.fixture(scope="session")
def housing(housing_path) -> pd.DataFrame:
    return pd.read_csv(housing_path)


@pytest.fixture(scope="session")
def adult(adult_path) -> pd.DataFrame:
    return pd.read_csv(adult_path)


@pytest.fixture(scope="session")
def housing_numeric(housing) -> list[str]:
    return [c for c in housing.columns if c not in (HOUSING_TARGET, *HOUSING_CATEGORICAL)]


@pytest.fixture(scope="session")
def adult_categorical(adult) -> list[str]:
    return [c for c in adult.columns if c not in (ADULT_TARGET, *ADULT_NUMERIC)]


@pytest.fixture(scope="session")
def housing_config() -> CleaningConfig:
    return CleaningConfig(
        ratios=HOUSING_RATIOS,
        cluster_similarity={"columns": ["latitude", "longitude"], "n_clusters": 5},
    )


@pytest.fixture(scope="session")
def housing_cleaning(housing, housing_numeric, housing_config):
    """Fitted on the whole housing frame, target column included (the pipeline drops it)."""
    pipeline = build_cleaning_pipeline(housing_numeric, HOUSING_CATEGORICAL, housing_config)
    return pipeline.fit(housing)


@pytest.fixture(scope="session")
def adult_cleaning(adult, adult_categorical):
    pipeline = build_cleaning_pipeline(ADULT_NUMERIC, adult_categorical, CleaningConfig())
    return pipeline.fit(adult)
