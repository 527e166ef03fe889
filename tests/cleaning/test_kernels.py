"""Every cleaning step's array kernel against its own ``transform``: every option, on housing and
adult, with missing values, unseen categories, markers and extreme values; exact equality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

from mlflow_steward.cleaning import (
    CleaningConfig,
    ClusterSimilarity,
    ExponentialSmoother,
    KernelFallback,
    KernelUnavailable,
    MissingMarkerReplacer,
    MovingAverageSmoother,
    OutlierClipper,
    RatioFeatures,
    TypedImputer,
    array_kernel,
    build_cleaning_pipeline,
    frame_columns,
    produces_sparse,
)

UNSEEN = ["MARS", " NEAR BAY", "", "near bay", "?x"]
MARKERS = ["?", " ?", "? ", "n/a"]
EXTREMES = [1e300, -1e300, 0.0, 1e-300, -0.0, 1e15]


def kernel_output(step, frame: pd.DataFrame) -> list[np.ndarray]:
    """The step's kernel applied to the frame's columns (in the step's input order)."""
    names = [str(c) for c in step.feature_names_in_]
    return array_kernel(step)(frame_columns(frame, names))


def transform_output(step, frame: pd.DataFrame) -> pd.DataFrame:
    out = step.transform(frame)
    if sp.issparse(out):
        out = out.toarray()
    return out if isinstance(out, pd.DataFrame) else pd.DataFrame(out)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (value != value)


def assert_same_columns(got: list[np.ndarray], expected: pd.DataFrame, *, rtol: float = 0.0) -> None:
    """Column for column equal: numbers exactly (NaN where NaN; ``rtol`` if given), other values
    equal with missing where missing."""
    assert len(got) == expected.shape[1], (len(got), list(expected.columns))
    for j, (column, (name, series)) in enumerate(zip(got, expected.items())):
        assert len(column) == len(series), name
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        if numeric and column.dtype.kind in "fiu":
            want = series.to_numpy(dtype=np.float64, na_value=np.nan)
            if rtol:
                np.testing.assert_allclose(column, want, rtol=rtol, atol=0, err_msg=str(name))
            else:
                np.testing.assert_array_equal(column, want, err_msg=str(name), strict=False)
            continue
        for row, (a, b) in enumerate(zip(column.tolist(), series.tolist())):
            if _missing(b):
                assert _missing(a), (name, row, a, b)
            else:
                assert not _missing(a) and a == b, (name, row, a, b)


def assert_kernel_matches(step, frame: pd.DataFrame, *, rtol: float = 0.0) -> None:
    assert_same_columns(kernel_output(step, frame), transform_output(step, frame), rtol=rtol)


def perturb(frame: pd.DataFrame, rng: np.random.Generator, *, rate: float = 0.15) -> pd.DataFrame:
    """A copy with missing values (None and NaN), unseen categories, markers and extreme numbers."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        hit = rng.random(len(out)) < rate
        if pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64, copy=True)
            choice = rng.integers(0, 2 + len(EXTREMES), size=len(out))
            for i in np.flatnonzero(hit):
                values[i] = np.nan if choice[i] < 2 else EXTREMES[choice[i] - 2]
            out[column] = values
        else:
            values = series.astype(object).to_numpy(copy=True)
            pool = [None, np.nan, *UNSEEN, *MARKERS]
            for i in np.flatnonzero(hit):
                values[i] = pool[rng.integers(0, len(pool))]
            out[column] = pd.Series(values, index=out.index, dtype=object)
    return out


# --- data ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def housing_x(housing) -> pd.DataFrame:
    return housing.drop(columns=["median_house_value"]).sample(1500, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def adult_x(adult) -> pd.DataFrame:
    return adult.drop(columns=["salary"]).sample(1500, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def housing_queries(housing_x) -> pd.DataFrame:
    return perturb(housing_x.head(400), np.random.default_rng(1))


@pytest.fixture(scope="module")
def adult_queries(adult_x) -> pd.DataFrame:
    return perturb(adult_x.head(400), np.random.default_rng(2))


def _both_text_dtypes(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """The frame with its text columns as pandas' default string dtype and as object."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
    as_object = frame.astype({c: object for c in text})
    as_string = frame.astype({c: "str" for c in text})
    return [as_object, as_string]


# --- our transformers ---------------------------------------------------------------------------
@pytest.mark.parametrize("markers", [("?",), (" ?", "n/a"), ()])
def test_markers_kernel(adult_x, adult_queries, markers):
    step = MissingMarkerReplacer(markers=markers).fit(adult_x)
    for frame in _both_text_dtypes(adult_queries):
        assert_kernel_matches(step, frame)


def test_markers_kernel_on_category_and_numeric_columns():
    frame = pd.DataFrame({
        "c": pd.Categorical(["a", "?", None, " ?"]), "n": [1.0, np.nan, 3.0, 4.0], "b": [True, False, True, True],
    })  # fmt: skip
    step = MissingMarkerReplacer().fit(frame)
    assert_kernel_matches(step, frame)


@pytest.mark.parametrize("numeric_strategy", ["median", "mean", "most_frequent", "constant"])
@pytest.mark.parametrize("categorical_strategy", ["most_frequent", "constant"])
def test_typed_imputer_kernel(adult_x, adult_queries, numeric_strategy, categorical_strategy):
    fit = perturb(adult_x, np.random.default_rng(3), rate=0.05)
    step = TypedImputer(numeric_strategy=numeric_strategy, categorical_strategy=categorical_strategy).fit(fit)
    for frame in _both_text_dtypes(adult_queries):
        assert_kernel_matches(step, frame)


def test_typed_imputer_kernel_with_explicit_columns_and_passthrough(housing_x, housing_queries):
    step = TypedImputer(numeric_columns=["total_bedrooms", "total_rooms"], categorical_columns=["ocean_proximity"])
    step.fit(housing_x)
    assert_kernel_matches(step, housing_queries)


@pytest.mark.parametrize(
    "params", [{"method": "iqr"}, {"method": "iqr", "factor": 0.0}, {"method": "iqr", "factor": 3.0},
               {"method": "quantile"}, {"method": "quantile", "quantiles": (0.2, 0.7)},
               {"method": "quantile", "columns": ["median_income", "population"]}],
)  # fmt: skip
def test_outlier_clipper_kernel(housing_x, housing_queries, params):
    step = OutlierClipper(**params).fit(housing_x)
    frame = housing_queries.copy()
    frame.loc[:3, "median_income"] = [np.inf, -np.inf, 1e308, np.nan]  # extreme values are clipped
    assert_kernel_matches(step, frame)


def test_ratio_kernel_zero_missing_and_infinite(housing_x, housing_queries):
    ratios = (("rooms_per_house", "total_rooms", "households"), ("b", "total_bedrooms", "total_rooms"))
    step = RatioFeatures(ratios=ratios).fit(housing_x)
    frame = housing_queries.copy()
    frame.loc[:5, "households"] = [0.0, 0.0, np.nan, 1e-320, np.inf, -0.0]
    frame.loc[:5, "total_rooms"] = [0.0, 5.0, 5.0, 1e300, 5.0, np.nan]
    assert_kernel_matches(step, frame)


@pytest.mark.parametrize("n_clusters, gamma", [(1, 1.0), (5, 0.1), (10, 1.0), (7, 25.0)])
def test_cluster_similarity_kernel(housing_x, n_clusters, gamma):
    columns = ["latitude", "longitude"]
    step = ClusterSimilarity(n_clusters=n_clusters, gamma=gamma, random_state=0).fit(housing_x[columns])
    frame = housing_x[columns].head(300).copy()
    frame.iloc[:3, 0] = [1e150, -1e150, 0.0]
    assert_kernel_matches(step, frame)
    assert_kernel_matches(step, frame.head(1))


def test_cluster_similarity_kernel_leaves_missing_and_infinite_input_to_the_step(housing_x):
    step = ClusterSimilarity(n_clusters=3, random_state=0).fit(housing_x[["latitude", "longitude"]])
    for bad in (np.nan, np.inf):
        frame = housing_x[["latitude", "longitude"]].head(3).copy()
        frame.iloc[1, 0] = bad
        with pytest.raises(KernelFallback):
            kernel_output(step, frame)
        with pytest.raises(ValueError):  # ... where the step itself refuses it
            step.transform(frame)


def _timed(n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 50, n_rows), unit="D")
    frame = pd.DataFrame({"t": times, "a": rng.normal(size=n_rows), "b": rng.normal(size=n_rows) * 1e6,
                          "c": rng.choice(["x", "y"], n_rows)})  # fmt: skip
    frame.loc[frame.sample(frac=0.2, random_state=0).index, "a"] = np.nan
    frame.loc[frame.sample(frac=0.1, random_state=1).index, "t"] = pd.NaT
    return frame


@pytest.mark.parametrize(
    "smoother", [MovingAverageSmoother(window=1), MovingAverageSmoother(window=3), MovingAverageSmoother(window=7),
                 ExponentialSmoother(alpha=0.3), ExponentialSmoother(alpha=1.0)],
)  # fmt: skip
@pytest.mark.parametrize("order_by", [None, "t"])
@pytest.mark.parametrize("n_rows", [1, 2, 60])
def test_smoother_kernels(smoother, order_by, n_rows):
    frame = _timed(n_rows, np.random.default_rng(n_rows))
    step = type(smoother)(**{**smoother.get_params(), "columns": ["a", "b"], "order_by": order_by}).fit(frame)
    assert_kernel_matches(step, frame)


# --- scikit-learn transformers --------------------------------------------------------------------
NUMERIC = ["longitude", "latitude", "total_rooms", "total_bedrooms", "median_income"]


@pytest.mark.parametrize("with_mean, with_std", [(True, True), (False, True), (True, False), (False, False)])
def test_standard_scaler_kernel(housing_x, housing_queries, with_mean, with_std):
    step = StandardScaler(with_mean=with_mean, with_std=with_std).fit(housing_x[NUMERIC])
    assert_kernel_matches(step, housing_queries[NUMERIC])


@pytest.mark.parametrize("feature_range, clip", [((0, 1), False), ((-1, 3), False), ((0, 1), True)])
def test_min_max_scaler_kernel(housing_x, housing_queries, feature_range, clip):
    step = MinMaxScaler(feature_range=feature_range, clip=clip).fit(housing_x[NUMERIC])
    assert_kernel_matches(step, housing_queries[NUMERIC])


@pytest.mark.parametrize("step", [StandardScaler(), MinMaxScaler(), SimpleImputer()])
def test_scaler_and_imputer_kernels_leave_infinity_to_the_step(housing_x, step):
    step.fit(housing_x[NUMERIC])
    frame = housing_x[NUMERIC].head(3).copy()
    frame.iloc[0, 2] = np.inf
    with pytest.raises(KernelFallback):
        kernel_output(step, frame)
    with pytest.raises(ValueError, match="infinity"):
        step.transform(frame)


ADULT_TEXT = ["workclass", "education", "marital-status", "race", "sex"]


@pytest.mark.parametrize(
    "params", [{"handle_unknown": "ignore"}, {"handle_unknown": "ignore", "drop": "first"},
               {"handle_unknown": "ignore", "drop": "if_binary"}, {"handle_unknown": "infrequent_if_exist"},
               {"handle_unknown": "ignore", "dtype": np.float32}, {"handle_unknown": "ignore", "sparse_output": True}],
)  # fmt: skip
def test_one_hot_kernel_unseen_categories(adult_x, adult_queries, params):
    fit = adult_x[ADULT_TEXT].fillna("missing")
    step = OneHotEncoder(**params).fit(fit)
    for frame in _both_text_dtypes(adult_queries[ADULT_TEXT]):
        assert_kernel_matches(step, frame)


def test_one_hot_kernel_with_handle_unknown_error_leaves_unknowns_to_the_encoder(adult_x):
    step = OneHotEncoder(handle_unknown="error", sparse_output=False).fit(adult_x[ADULT_TEXT].fillna("missing"))
    known = adult_x[ADULT_TEXT].fillna("missing").head(50)
    assert_kernel_matches(step, known)
    unknown = known.copy()
    unknown.iloc[3, 1] = "MARS"
    with pytest.raises(KernelFallback):
        kernel_output(step, unknown)
    with pytest.raises(ValueError, match="unknown categor"):
        step.transform(unknown)


@pytest.mark.parametrize(
    "params", [{"strategy": "mean"}, {"strategy": "median"}, {"strategy": "most_frequent"},
               {"strategy": "constant", "fill_value": -1.0}, {"strategy": "median", "missing_values": -1.0},
               {"strategy": "mean", "keep_empty_features": True}],
)  # fmt: skip
def test_simple_imputer_kernel_numeric(housing_x, housing_queries, params):
    fit = housing_x[NUMERIC].copy()
    fit["empty"] = np.nan  # a feature without any observed value: dropped unless kept
    frame = housing_queries[NUMERIC].copy()
    frame["empty"] = [np.nan, 1.0] * (len(frame) // 2)
    if "missing_values" in params:  # then NaN is refused (by the kernel too) and -1 is missing
        step = SimpleImputer(**params).fit(fit.fillna(0.0))
        with pytest.raises(KernelFallback):
            kernel_output(step, frame)
        with pytest.raises(ValueError, match="NaN"):
            step.transform(frame)
        fit, frame = fit.fillna(0.0), frame.fillna(0.0)
        fit.iloc[::7, 1] = -1.0
        frame.iloc[::5, 2] = -1.0
    step = SimpleImputer(**params).fit(fit)
    assert_kernel_matches(step, frame)


@pytest.mark.parametrize(
    "params", [{"strategy": "most_frequent"}, {"strategy": "constant", "fill_value": "zz"},
               {"strategy": "constant", "fill_value": "?", "missing_values": "?"}],
)  # fmt: skip
def test_simple_imputer_kernel_text_keeps_none_apart_from_nan(adult_x, adult_queries, params):
    fit, frame = adult_x[ADULT_TEXT].astype(object), adult_queries[ADULT_TEXT].astype(object)
    if "missing_values" in params:  # then NaN is refused, by the kernel too
        step = SimpleImputer(**params).fit(fit.fillna("x"))
        with pytest.raises(KernelFallback):
            kernel_output(step, frame)
        with pytest.raises(ValueError, match="NaN"):
            step.transform(frame)
        fit, frame = fit.fillna("x"), frame.where(frame.isna() == False, "y")  # noqa: E712
        frame.iloc[::9, 0] = None  # None is not NaN: a value here
    step = SimpleImputer(**params).fit(fit)
    assert_kernel_matches(step, frame)


def test_column_transformer_and_pipeline_kernels(housing_x, housing_queries):
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    step = ColumnTransformer(
        [("num", numeric, NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                                      ["ocean_proximity"]),
         ("by_position", "passthrough", [5]), ("gone", "drop", ["households"]), ("none", StandardScaler(), []),
         ("picked", FunctionTransformer(), lambda X: ["housing_median_age"])],
        remainder=MinMaxScaler(),
    ).fit(housing_x)  # fmt: skip
    assert_kernel_matches(step, housing_queries.fillna({"housing_median_age": 0.0, "population": 0.0}))
    pipeline = Pipeline([("ct", step), ("nothing", "passthrough"), ("scale", StandardScaler())]).fit(housing_x)
    assert_kernel_matches(pipeline, housing_queries.fillna({"housing_median_age": 0.0, "population": 0.0}))


@pytest.mark.parametrize("dataset", ["housing", "adult"])
@pytest.mark.parametrize(
    "config", [CleaningConfig(), CleaningConfig(outliers="iqr", scaling="minmax", numeric_imputation="mean"),
               CleaningConfig(outliers=None, scaling=None, categorical_imputation="constant",
                              missing_markers=("?", "n/a"))],
)  # fmt: skip
def test_built_cleaning_pipeline_kernel(dataset, config, housing_x, housing_queries, adult_x, adult_queries):
    if dataset == "housing":
        x, queries, categorical = housing_x, housing_queries, ["ocean_proximity"]
    else:
        x, queries = adult_x, adult_queries
        categorical = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c].dtype)]
    numeric = [c for c in x.columns if c not in categorical]
    step = build_cleaning_pipeline(numeric, categorical, config).fit(x)
    for frame in _both_text_dtypes(queries):
        assert_kernel_matches(step, frame)


# --- what has no kernel -------------------------------------------------------------------------
class _MyScaler(StandardScaler):
    pass


class _MyClipper(OutlierClipper):
    pass


@pytest.mark.parametrize(
    "step, named", [(_MyScaler(), "_MyScaler"), (_MyClipper(), "_MyClipper"),
                    (FunctionTransformer(np.abs), "FunctionTransformer with a function"),
                    (SimpleImputer(add_indicator=True), "SimpleImputer with add_indicator"),
                    (OneHotEncoder(min_frequency=50, handle_unknown="infrequent_if_exist", sparse_output=False),
                     "OneHotEncoder with infrequent categories")],
)  # fmt: skip
def test_steps_without_kernel_are_named(housing_x, step, named):
    columns = ["ocean_proximity"] if isinstance(step, OneHotEncoder) else NUMERIC
    step.fit(housing_x[columns])
    with pytest.raises(KernelUnavailable, match=named):
        array_kernel(step)
    wrapped = ColumnTransformer([("mine", step, columns)]).fit(housing_x)
    with pytest.raises(KernelUnavailable, match=f"transformer 'mine': {named}"):
        array_kernel(wrapped)


def test_one_hot_with_missing_categories_and_sparse_outputs_are_refused_or_reported(housing_x):
    frame = housing_x[["ocean_proximity"]].astype(object)
    frame.iloc[:5, 0] = None
    with pytest.raises(KernelUnavailable, match="missing values as categories"):
        array_kernel(OneHotEncoder().fit(frame))
    sparse = OneHotEncoder().fit(housing_x[["ocean_proximity"]])
    dense = OneHotEncoder(sparse_output=False).fit(housing_x[["ocean_proximity"]])
    assert produces_sparse(sparse) and produces_sparse(Pipeline([("oh", sparse)]))
    assert not produces_sparse(dense) and not produces_sparse(Pipeline([("oh", dense)]))
    forced = ColumnTransformer([("oh", sparse, ["ocean_proximity"])], sparse_threshold=1.0).fit(housing_x)
    with pytest.raises(KernelUnavailable, match="sparse output"):
        array_kernel(forced)


# --- frames to kernel columns -------------------------------------------------------------------
def _every_dtype() -> pd.DataFrame:
    return pd.DataFrame({
        "float": [1.5, np.nan, 3.0], "int": [1, 2, 3], "str": pd.Series(["a", None, "b"], dtype="str"),
        "object": pd.Series(["a", None, np.nan], dtype=object), "category": pd.Categorical(["a", None, "a"]),
        "bool": [True, False, True], "time": pd.to_datetime(["2026-01-02", None, "2026-01-01"]),
    })  # fmt: skip


@pytest.mark.parametrize("public_only", [False, True])
def test_frame_columns_by_dtype(monkeypatch, public_only):
    if public_only:  # the public (slower) path, if pandas drops its private accessor
        monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    frame = _every_dtype()
    columns = dict(zip(frame.columns, frame_columns(frame, list(frame.columns))))
    assert columns["float"].dtype == np.float64 and columns["int"].tolist() == [1.0, 2.0, 3.0]
    assert columns["str"].tolist()[0] == "a" and columns["str"].tolist()[1] != columns["str"].tolist()[1]  # NaN
    values = columns["object"].tolist()
    assert values[0] == "a" and values[1] is None and values[2] != values[2]  # None and NaN stay apart
    assert len(columns["object"].uniques) == 3 and columns["category"].codes.tolist() == [0, 1, 0]
    assert columns["bool"].tolist() == [True, False, True]
    assert columns["time"].dtype.kind == "M" and np.isnat(columns["time"][1])
    assert [len(c) for c in columns.values()] == [3] * 7


@pytest.mark.parametrize(
    "frame", [pd.DataFrame({"x": pd.Series(["a", None], dtype="string")}),
              pd.DataFrame({"x": pd.to_datetime(["2026-01-01", None]).tz_localize("UTC")}),
              pd.DataFrame({"x": pd.array([1, None], dtype="Int64")}),
              pd.DataFrame([[1.0, 2.0]], columns=["x", "x"]), pd.DataFrame({"y": [1.0]})],
)  # fmt: skip
def test_frame_columns_leaves_what_pandas_must_decide_to_the_pipeline(frame):
    with pytest.raises(KernelFallback):
        frame_columns(frame, ["x"])
