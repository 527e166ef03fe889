"""Serving fixtures: small fitted housing/adult pipelines and a real ``mlflow models serve`` launcher."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

VENV_BIN = Path(sys.executable).parent
HOUSING_TARGET = "median_house_value"
ADULT_TARGET = "salary"


def _pipeline(numeric: list[str], categorical: list[str], estimator):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    cleaning = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ]
    )  # fmt: skip
    return Pipeline([("cleaning", cleaning), ("model", estimator)])


@pytest.fixture(scope="session")
def housing_xy(housing_path) -> tuple[pd.DataFrame, pd.Series]:
    """1,500 housing rows (features, target)."""
    frame = pd.read_csv(housing_path).sample(1500, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[HOUSING_TARGET]), frame[HOUSING_TARGET]


@pytest.fixture(scope="session")
def housing_model(housing_xy):
    """A fitted imputer + one-hot + RandomForest(n_estimators=10) housing pipeline."""
    from sklearn.ensemble import RandomForestRegressor

    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    model = _pipeline(numeric, ["ocean_proximity"], RandomForestRegressor(n_estimators=10, random_state=0))
    return model.fit(X, y)


@pytest.fixture(scope="session")
def adult_xy(adult_path) -> tuple[pd.DataFrame, pd.Series]:
    """1,500 adult rows, '?' as missing (features, target)."""
    frame = pd.read_csv(adult_path, na_values=["?"]).sample(1500, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[ADULT_TARGET]), frame[ADULT_TARGET]


@pytest.fixture(scope="session")
def adult_model(adult_xy):
    """A fitted imputer + one-hot + RandomForest(n_estimators=10) classifier on adult."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = adult_xy
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    model = _pipeline(numeric, categorical, RandomForestClassifier(n_estimators=10, random_state=0))
    return model.fit(X, y)


@pytest.fixture(autouse=True)
def _no_steward_serving_env(monkeypatch):
    """A developer's STEWARD_CAPTURE_PATH / STEWARD_MODEL_* must not leak into these tests."""
    for key in ("STEWARD_CAPTURE_PATH", "STEWARD_MODEL_NAME", "STEWARD_MODEL_VERSION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def uv_or_virtualenv() -> str | None:
    """Which of MLflow's isolated env managers can work here: "virtualenv" (pyenv + pip, which uses
    pip's configured index; tested here), else "uv", else None."""
    if shutil.which("pyenv"):
        return "virtualenv"
    if shutil.which("uv") or (VENV_BIN / "uv").exists():
        return "uv"
    return None
