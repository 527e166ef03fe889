"""The accuracy estimate before labels (CBPE-style): within its interval of the true accuracy on a
held-out labelled window of adult.csv; withheld for a miscalibrated model; the calibration test's
false-rejection rate and power by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.monitoring import check_calibration, estimate_accuracy
from mlflow_steward.monitoring._estimate import spiegelhalter_p


@pytest.fixture(scope="module")
def adult_split(adult_path):
    """A gradient-boosted adult classifier; its test set (calibration check) and a held-out window."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.read_csv(adult_path, na_values=["?"], skipinitialspace=True).sample(frac=1.0, random_state=0)
    frame = frame.reset_index(drop=True)
    y = frame.pop("salary")
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    cleaning = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
    ])  # fmt: skip
    model = Pipeline([("cleaning", cleaning), ("model", HistGradientBoostingClassifier(random_state=0))])
    model.fit(frame.iloc[:12000], y.iloc[:12000])
    classes = list(model.classes_)

    def part(start: int, stop: int):
        proba = model.predict_proba(frame.iloc[start:stop])
        codes = np.array([classes.index(v) for v in y.iloc[start:stop]])
        return codes, proba

    return part(12000, 19000), part(19000, 24000)


def test_estimate_within_its_interval_of_the_true_accuracy_on_adult(adult_split):
    (test_y, test_p), (window_y, window_p) = adult_split
    calibration = check_calibration(test_y, test_p, tolerance=0.03, level=0.01)
    assert calibration.passed, calibration.describe()
    estimate = estimate_accuracy(window_p, calibration)
    true_accuracy = float((window_p.argmax(axis=1) == window_y).mean())
    assert estimate.reported and estimate.note == "estimate"
    assert estimate.low <= true_accuracy <= estimate.high, (estimate, true_accuracy)
    assert estimate.high - estimate.low < 0.04  # informative, not a blanket interval


def test_estimate_withheld_for_an_overconfident_model(adult_split):
    (test_y, test_p), (_, window_p) = adult_split
    sharpened = test_p**4 / (test_p**4).sum(axis=1, keepdims=True)  # same ranking, overconfident
    calibration = check_calibration(test_y, sharpened)
    assert not calibration.passed
    estimate = estimate_accuracy(window_p, calibration)
    assert not estimate.reported and estimate.value is None and "not calibrated" in estimate.note
    assert not estimate_accuracy(window_p, None).reported  # no test set: no estimate


def test_spiegelhalter_false_rejections_and_power_by_simulation():
    rng = np.random.default_rng(1)
    calibrated, overconfident = 0, 0
    for _ in range(300):
        confidence = rng.uniform(0.5, 1.0, 2000)
        correct = (rng.random(2000) < confidence).astype(float)
        calibrated += spiegelhalter_p(correct, confidence) < 0.05
        truth = (rng.random(2000) < confidence - 0.05).astype(float)  # right 5 points less often than claimed
        overconfident += spiegelhalter_p(truth, confidence) < 0.05
    assert 0.02 <= calibrated / 300 <= 0.09, calibrated
    assert overconfident / 300 >= 0.9, overconfident
