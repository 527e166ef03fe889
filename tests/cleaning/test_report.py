import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from mlflow_steward.cleaning import (
    CleaningConfig,
    CleaningParameterError,
    build_cleaning_pipeline,
    build_model_pipeline,
    cleaning_report,
)
from mlflow_steward.cleaning._errors import (
    REPORT_DUPLICATES,
    REPORT_NO_IMPUTER,
    REPORT_NOT_FRAME,
    REPORT_NOT_PIPELINE,
)


def test_housing_missing_and_clipped_counts(housing, housing_cleaning):
    report = cleaning_report(housing, housing_cleaning, duplicates_dropped=3)
    assert report.n_rows == len(housing)
    assert report.missing_before["total_bedrooms"] == int(housing["total_bedrooms"].isna().sum())
    assert report.missing_before["total_bedrooms"] == 207  # the documented figure, as a cross-check
    # a missing total_bedrooms makes bedrooms_ratio missing too
    assert report.missing_before["bedrooms_ratio"] == 207
    assert set(report.missing_after.values()) == {0}
    clipper = housing_cleaning.named_steps["outliers"]
    assert report.clipped == clipper.n_clipped_  # same rows as at fit
    assert report.clipped["total_rooms"] == int(
        ((housing["total_rooms"] < clipper.lower_["total_rooms"])
         | (housing["total_rooms"] > clipper.upper_["total_rooms"])).sum()
    )
    assert report.rows_dropped == {"duplicates": 3}


def test_adult_markers_count_as_missing(adult, adult_cleaning):
    report = cleaning_report(adult, adult_cleaning)
    for column in ("workclass", "occupation", "native-country"):
        markers = int((adult[column].str.strip() == "?").sum())
        assert markers > 0
        assert report.markers_replaced[column] == markers
        assert report.missing_before[column] == markers + int(adult[column].isna().sum())
    assert set(report.missing_after.values()) == {0}


def test_metrics_json_and_model_pipeline(housing, housing_cleaning):
    sample = housing.head(500)
    model = build_model_pipeline(housing_cleaning, Ridge())
    report = cleaning_report(sample, model, duplicates_dropped=2)  # uses the "cleaning" step
    assert report == cleaning_report(sample, housing_cleaning, duplicates_dropped=2)
    metrics = report.metrics()
    assert metrics["cleaning/missing_before/total_bedrooms"] == float(
        sample["total_bedrooms"].isna().sum()
    )
    assert metrics["cleaning/clipped/total_rooms"] == float(report.clipped["total_rooms"])
    assert metrics["cleaning/duplicates_dropped"] == 2.0
    assert metrics["cleaning/rows"] == 500.0
    assert all(isinstance(value, float) for value in metrics.values())
    assert all(re.fullmatch(r"[A-Za-z0-9_\-. /=]+", key) for key in metrics)
    assert json.loads(report.to_json()) == report.to_dict()


def test_metric_keys_are_sanitised():
    frame = pd.DataFrame({"rooms (total)": [1.0, np.nan, 3.0]})
    cleaning = build_cleaning_pipeline(["rooms (total)"], [], CleaningConfig()).fit(frame)
    metrics = cleaning_report(frame, cleaning).metrics()
    assert metrics["cleaning/missing_before/rooms _total_"] == 1.0


def test_report_errors(housing, housing_cleaning):
    cases = [
        (
            lambda: cleaning_report(housing.to_numpy(), housing_cleaning),
            REPORT_NOT_FRAME.format(type="ndarray"),
        ),
        (lambda: cleaning_report(housing, Ridge()), REPORT_NOT_PIPELINE.format(type="Ridge")),
        (lambda: cleaning_report(housing, Pipeline([("r", Ridge())])), REPORT_NO_IMPUTER),
        (
            lambda: cleaning_report(housing, housing_cleaning, duplicates_dropped=-1),
            REPORT_DUPLICATES.format(value=-1),
        ),
    ]
    for call, message in cases:
        with pytest.raises(CleaningParameterError, match=f"^{re.escape(message)}$"):
            call()
    unfitted = build_cleaning_pipeline(["total_rooms"], [], CleaningConfig())
    with pytest.raises(NotFittedError):
        cleaning_report(housing, unfitted)


def test_cells_coerced_by_the_loader_are_reported(housing, housing_cleaning):
    sample = housing.head(100)
    report = cleaning_report(sample, housing_cleaning, coerced_to_missing={"total_rooms": 3})
    assert report.coerced_to_missing == {"total_rooms": 3}
    metrics = report.metrics()
    assert metrics["cleaning/coerced_to_missing/total_rooms"] == 3.0
    assert metrics["cleaning/coerced_to_missing_total"] == 3.0
    assert json.loads(report.to_json())["coerced_to_missing"] == {"total_rooms": 3}
    assert cleaning_report(sample, housing_cleaning).metrics()["cleaning/coerced_to_missing_total"] == 0.0
