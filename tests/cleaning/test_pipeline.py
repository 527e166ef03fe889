import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from mlflow_steward.cleaning import (
    CleaningConfig,
    CleaningParameterError,
    ExponentialSmoother,
    build_cleaning_pipeline,
    build_model_pipeline,
)
from mlflow_steward.cleaning._errors import (
    BUILD_DUPLICATE,
    BUILD_NO_FEATURES,
    BUILD_NOT_CONFIG,
    BUILD_NOT_STRINGS,
    BUILD_TIME_IS_FEATURE,
    BUILD_UNKNOWN_COLUMN,
    MODEL_NOT_ESTIMATOR,
    MODEL_NOT_PIPELINE,
)

OCEAN = ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]


def test_housing_output_is_a_complete_float_matrix(housing, housing_cleaning, housing_numeric):
    out = housing_cleaning.transform(housing)
    assert out.shape == (len(housing), len(housing_numeric) + 3 + 5 + len(OCEAN))
    assert out.isna().sum().sum() == 0
    assert set(out.dtypes) == {np.dtype("float64")}
    ratios = ["rooms_per_house", "bedrooms_ratio", "people_per_house"]
    clusters = [f"cluster_{i}_similarity" for i in range(5)]
    ocean = [f"ocean_proximity_{value}" for value in OCEAN]
    assert list(out.columns) == housing_numeric + ratios + clusters + ocean
    assert list(housing_cleaning.get_feature_names_out()) == list(out.columns)
    np.testing.assert_allclose(out[housing_numeric + ratios].mean(), 0.0, atol=1e-9)  # scaled


def test_adult_string_dtype_and_markers(adult, adult_cleaning):
    assert isinstance(adult["workclass"].dtype, pd.StringDtype)  # pandas 3: the case we handle
    out = adult_cleaning.transform(adult)
    assert out.isna().sum().sum() == 0
    assert not any(column.endswith("_?") for column in out.columns)  # '?' is not a category
    assert set(out.dtypes) == {np.dtype("float64")}


def test_unknown_category_and_missing_values_at_predict_time(housing, housing_cleaning):
    rows = housing.drop(columns="median_house_value").head(3).copy()
    rows["ocean_proximity"] = pd.array(["ATLANTIS", None, "INLAND"], dtype="str")
    rows.loc[rows.index[0], "total_rooms"] = np.nan
    out = housing_cleaning.transform(rows)
    assert out.isna().sum().sum() == 0
    ocean = out[[f"ocean_proximity_{value}" for value in OCEAN]].to_numpy()
    assert ocean[0].tolist() == [0.0] * 5  # unknown: all zeros, no error
    assert ocean[1].sum() == 1.0  # missing: imputed with the most frequent category


def test_extra_columns_dropped_and_order_does_not_matter(housing, housing_cleaning):
    shuffled = housing.head(20)[list(reversed(housing.columns))].assign(row_id=range(20))
    pd.testing.assert_frame_equal(
        housing_cleaning.transform(shuffled), housing_cleaning.transform(housing.head(20))
    )


def test_step_order_and_options():
    config = CleaningConfig(
        outliers=None,
        scaling="minmax",
        missing_markers=(),
        smoothing={"method": "exponential", "columns": ["x"], "alpha": 0.5},
        ratios=(("r", "x", "y"),),
    )
    pipeline = build_cleaning_pipeline(["x", "y"], ["c"], config, time_column="t")
    names = [name for name, _ in pipeline.steps]
    assert names == ["select", "smoothing", "ratios", "impute", "encode"]
    smoother = pipeline.named_steps["smoothing"]
    assert isinstance(smoother, ExponentialSmoother) and smoother.order_by == "t"
    scaler = pipeline.named_steps["encode"].transformers[0][1]
    assert isinstance(scaler, MinMaxScaler)
    default = build_cleaning_pipeline(["x"], [], None)
    names = [name for name, _ in default.steps]
    assert names == ["select", "markers", "outliers", "impute", "encode"]
    assert isinstance(default.named_steps["encode"].transformers[0][1], StandardScaler)


def test_smoothing_pipeline_orders_by_time_column_and_drops_it():
    frame = pd.DataFrame({"x": [5.0, 1.0, 3.0], "t": [3, 1, 2], "c": ["a", "b", "a"]})
    config = CleaningConfig(
        outliers=None,
        scaling=None,
        smoothing={"method": "exponential", "columns": ["x"], "alpha": 0.5},
    )
    out = build_cleaning_pipeline(["x"], ["c"], config, time_column="t").fit_transform(frame)
    assert list(out.columns) == ["x", "c_a", "c_b"]
    assert out["x"].tolist() == [3.5, 1.0, 2.0]


def test_model_pipeline_steps(housing, housing_numeric, housing_config):
    cleaning = build_cleaning_pipeline(housing_numeric, ["ocean_proximity"], housing_config)
    model = build_model_pipeline(cleaning, Ridge())
    assert [name for name, _ in model.steps] == ["cleaning", "model"]
    assert model.named_steps["cleaning"] is cleaning


def test_builder_errors():
    cases = [
        (lambda: build_cleaning_pipeline([], [], CleaningConfig()), BUILD_NO_FEATURES),
        (
            lambda: build_cleaning_pipeline("x", [], CleaningConfig()),
            BUILD_NOT_STRINGS.format(param="numeric", value="x"),
        ),
        (
            lambda: build_cleaning_pipeline(["x"], ["x"], CleaningConfig()),
            BUILD_DUPLICATE.format(column="x"),
        ),
        (
            lambda: build_cleaning_pipeline(["x"], [], CleaningConfig(), time_column="x"),
            BUILD_TIME_IS_FEATURE.format(column="x"),
        ),
        (
            lambda: build_cleaning_pipeline(
                ["x"], ["c"], CleaningConfig(ratios=(("r", "x", "c"),))
            ),
            BUILD_UNKNOWN_COLUMN.format(field="ratios", column="c", numeric=["x"]),
        ),
        (
            lambda: build_cleaning_pipeline(
                ["x"], [], CleaningConfig(cluster_similarity={"columns": ["lat"]})
            ),
            BUILD_UNKNOWN_COLUMN.format(field="cluster_similarity", column="lat", numeric=["x"]),
        ),
        (
            lambda: build_cleaning_pipeline(["x"], [], {"scaling": None}),
            BUILD_NOT_CONFIG.format(type="dict"),
        ),
        (
            lambda: build_model_pipeline(Ridge(), Ridge()),
            MODEL_NOT_PIPELINE.format(type="Ridge"),
        ),
        (
            lambda: build_model_pipeline(Pipeline([("r", Ridge())]), "ridge"),
            MODEL_NOT_ESTIMATOR.format(type="str"),
        ),
    ]
    for build, message in cases:
        with pytest.raises(CleaningParameterError, match=f"^{re.escape(message)}$"):
            build()
