import re

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.cleaning import CleaningColumnError, CleaningParameterError, TypedImputer
from mlflow_steward.cleaning._errors import (
    COLUMN_ALL_MISSING,
    COLUMN_MISSING,
    COLUMN_NOT_NUMERIC,
    PARAM_OPTION,
    PARAM_OVERLAP,
)
from mlflow_steward.cleaning._impute import CATEGORICAL_STRATEGIES, NUMERIC_STRATEGIES


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "num": [1.0, np.nan, 3.0, 10.0],
            "cat": pd.array(["b", "a", "b", None], dtype="str"),
            "tie": pd.Series(["b", "a", np.nan, np.nan], dtype=object),
        }
    )


@pytest.mark.parametrize(
    ("strategy", "expected"), [("median", 3.0), ("mean", 14.0 / 3.0), ("constant", -1.0)]
)
def test_numeric_strategies_by_hand(frame, strategy, expected):
    imputer = TypedImputer(numeric_strategy=strategy, numeric_fill_value=-1.0).fit(frame)
    assert imputer.statistics_["num"] == pytest.approx(expected)
    assert imputer.transform(frame)["num"][1] == pytest.approx(expected)


def test_types_from_dtypes_and_most_frequent_breaks_ties_by_smallest(frame):
    imputer = TypedImputer().fit(frame)
    assert imputer.numeric_columns_ == ["num"]
    assert imputer.categorical_columns_ == ["cat", "tie"]
    assert imputer.statistics_ == {"num": 3.0, "cat": "b", "tie": "a"}
    out = imputer.transform(frame)
    assert out.isna().sum().sum() == 0
    assert out["cat"].tolist() == ["b", "a", "b", "b"]
    assert out["cat"].dtype == frame["cat"].dtype


def test_constant_categorical_and_category_dtype_gains_the_fill_value():
    frame = pd.DataFrame({"c": pd.Categorical(["x", None, "y"])})
    out = TypedImputer(categorical_strategy="constant").fit_transform(frame)
    assert out["c"].tolist() == ["x", "missing", "y"]
    assert "missing" in out["c"].cat.categories


def test_explicit_lists_and_untouched_columns(frame):
    imputer = TypedImputer(numeric_columns=["num"], categorical_columns=["cat"]).fit(frame)
    out = imputer.transform(frame)
    assert out["tie"].isna().sum() == 2  # in neither list: passes through
    only_numeric = TypedImputer(numeric_columns=["num"]).fit(frame)
    assert only_numeric.categorical_columns_ == ["cat", "tie"]


def test_nullable_integer_takes_a_fractional_median():
    frame = pd.DataFrame({"i": pd.array([1, None, 2], dtype="Int64")})
    out = TypedImputer().fit_transform(frame)
    assert out["i"].tolist() == [1.0, 1.5, 2.0]


def test_bad_strategy(frame):
    message = PARAM_OPTION.format(
        owner="TypedImputer",
        param="numeric_strategy",
        options=list(NUMERIC_STRATEGIES),
        value="mode",
    )
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        TypedImputer(numeric_strategy="mode").fit(frame)
    message = PARAM_OPTION.format(
        owner="TypedImputer",
        param="categorical_strategy",
        options=list(CATEGORICAL_STRATEGIES),
        value="median",
    )
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        TypedImputer(categorical_strategy="median").fit(frame)


def test_column_errors(frame):
    message = PARAM_OVERLAP.format(owner="TypedImputer", column="num")
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        TypedImputer(numeric_columns=["num"], categorical_columns=["num"]).fit(frame)
    message = COLUMN_MISSING.format(
        owner="TypedImputer", column="nope", param="categorical_columns", available=list(frame)
    )
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        TypedImputer(categorical_columns=["nope"]).fit(frame)
    message = COLUMN_NOT_NUMERIC.format(
        owner="TypedImputer",
        column="cat",
        dtype=frame["cat"].dtype,
        hint=" (or list it in 'categorical_columns')",
    )
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        TypedImputer(numeric_columns=["num", "cat"]).fit(frame)


def test_all_missing_column_is_named():
    frame = pd.DataFrame({"empty": [np.nan, np.nan], "ok": [1.0, 2.0]})
    message = COLUMN_ALL_MISSING.format(owner="TypedImputer", column="empty", strategy="median")
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        TypedImputer().fit(frame)
