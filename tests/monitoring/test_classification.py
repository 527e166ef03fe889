"""Prediction drift of a classifier: predicted labels (categorical) and class probabilities."""

from __future__ import annotations

import pandas as pd
import pytest

from mlflow_steward.monitoring import Profile, check_drift, fit_reference_profile


@pytest.fixture(scope="module")
def adult(adult_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(adult_path, na_values=["?"], skipinitialspace=True).sample(12_000, random_state=0)
    target = frame.pop("salary")
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    cleaning = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical),
    ])  # fmt: skip
    model = Pipeline([("cleaning", cleaning), ("model", LogisticRegression(max_iter=300))])
    model.fit(frame.iloc[:8000], target.iloc[:8000])
    return model, frame.iloc[:8000], frame.iloc[8000:10000], frame.iloc[10000:].reset_index(drop=True)


def test_classifier_profile_has_labels_and_probabilities(adult):
    model, train, held_out, _ = adult
    profile = fit_reference_profile(model, train, held_out)
    assert profile.task == "classification"
    assert profile.names("prediction") == ("prediction", *(f"probability/{c}" for c in model.classes_))
    assert profile.column("prediction").kind == "categorical"
    assert Profile.from_json(profile.to_json()) == profile


def test_prediction_drift_follows_a_shift_in_inputs(adult):
    model, train, held_out, window = adult
    profile = fit_reference_profile(model, train, held_out)
    healthy = check_drift(profile, window, predictions=model.predict(window), probabilities=model.predict_proba(window),
                          classes=list(model.classes_))  # fmt: skip
    assert not healthy.overall.drift, healthy.summary()
    older = window.assign(age=window["age"] + 15)
    drifted = check_drift(profile, older, predictions=model.predict(older), probabilities=model.predict_proba(older),
                          classes=list(model.classes_))  # fmt: skip
    assert drifted.overall.features == ("age",)
    assert set(drifted.overall.outputs) & {"prediction", f"probability/{model.classes_[1]}"}
