"""Fixtures for the evaluation tests: small fitted models on housing and adult, one report each.

Housing: a random forest fitted on 4,000 rows; the test frame is 2,000 other rows plus all five
ISLAND rows (the model never saw ISLAND), so the ocean_proximity slice ISLAND has exactly 5 rows.
"""

from __future__ import annotations

import pandas as pd
import pytest

HOUSING_TARGET = "median_house_value"
ADULT_TARGET = "salary"
FAST = {"n_resamples": 300, "random_state": 0}


def _regressor():
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["ocean_proximity"])], remainder="passthrough"
    )
    return make_pipeline(encode, RandomForestRegressor(n_estimators=30, min_samples_leaf=3, random_state=0))


@pytest.fixture(scope="session")
def housing_split(housing_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(housing_path)
    island = frame[frame["ocean_proximity"] == "ISLAND"]
    rest = frame[frame["ocean_proximity"] != "ISLAND"].sample(frac=1.0, random_state=0)
    return rest.iloc[:4000], pd.concat([rest.iloc[4000:6000], island])


@pytest.fixture(scope="session")
def housing_rf(housing_split):
    train, _ = housing_split
    return _regressor().fit(train.drop(columns=HOUSING_TARGET), train[HOUSING_TARGET])


@pytest.fixture(scope="session")
def housing_report(housing_split, housing_rf):
    from mlflow_steward.evaluation import evaluate_model

    _, test = housing_split
    config = {**FAST, "slice_columns": ["ocean_proximity", "median_income"]}
    return evaluate_model(housing_rf, test, target=HOUSING_TARGET, task="regression", config=config)


@pytest.fixture(scope="session")
def adult_split(adult_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(adult_path).sample(n=3500, random_state=1)
    return frame.iloc[:2500], frame.iloc[2500:]


@pytest.fixture(scope="session")
def adult_model(adult_split):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, _ = adult_split
    features = train.drop(columns=ADULT_TARGET)
    categorical = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    numeric = [c for c in features.columns if c not in categorical]
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), categorical), ("num", StandardScaler(), numeric)]
    )
    return make_pipeline(encode, LogisticRegression(max_iter=500)).fit(features, train[ADULT_TARGET])
