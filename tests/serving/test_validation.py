"""Request validation: kinds from the example, and every bad-input message naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import FeatureSchema, validate_frame
from mlflow_steward.serving import _validation as v


@pytest.fixture
def schema() -> FeatureSchema:
    example = pd.DataFrame(
        {
            "rooms": [1.5, 2.0],
            "age": [3, 4],
            "city": pd.array(["a", "b"], dtype="string"),
            "flag": [True, False],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    return FeatureSchema.from_frame(example)


def _good() -> pd.DataFrame:
    return pd.DataFrame(
        {"rooms": [1.0, np.nan], "age": [1, 2], "city": ["x", None], "flag": [True, None], "when": ["2024-02-01", None]}
    )


def test_kinds_from_example_dtypes(schema):
    assert schema.columns == ("rooms", "age", "city", "flag", "when")
    assert schema.kinds == (v.NUMERIC, v.NUMERIC, v.CATEGORICAL, v.BOOLEAN, v.DATETIME)
    assert FeatureSchema.from_json(schema.to_json()) == schema


def test_good_frame_passes_with_missing_values_and_extra_columns(schema):
    frame = _good().assign(extra=1)
    out = validate_frame(frame, schema)
    assert list(out.columns) == list(schema.columns)
    assert out["rooms"].isna().sum() == 1 and out["city"].isna().sum() == 1
    assert pd.api.types.is_datetime64_any_dtype(out["when"])


def test_numbers_sent_as_text_are_parsed(schema):
    out = validate_frame(_good().assign(rooms=["12.5", None]), schema)
    assert out["rooms"].dtype == np.float64 and out["rooms"].iloc[0] == 12.5


def test_all_null_column_is_fine_for_any_kind(schema):
    frame = _good().assign(city=[np.nan, np.nan], rooms=[None, None])
    out = validate_frame(frame, schema)
    assert out["city"].isna().all() and out["rooms"].isna().all()


def test_records_are_accepted(schema):
    out = validate_frame(_good().to_dict(orient="records"), schema)
    assert len(out) == 2


def test_missing_column_named_with_expected_columns(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().drop(columns=["age", "city"]), schema)
    assert str(info.value) == v.MISSING_COLUMNS.format(
        missing="'age' (numeric), 'city' (categorical)", expected=schema.describe()
    )
    assert "rooms (numeric), age (numeric), city (categorical), flag (boolean), when (datetime)" in str(info.value)


def test_unparseable_number_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(rooms=["1.5", "abc"]), schema)
    assert str(info.value) == v.NOT_NUMBER.format(column="rooms", value="'abc'", type="str", row=1)


def test_boolean_in_numeric_column_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(age=[True, False]), schema)
    assert str(info.value) == v.NOT_NUMBER.format(column="age", value="True", type="bool", row=0)


def test_list_in_numeric_column_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(rooms=pd.Series([1.0, [1, 2]], dtype=object)), schema)
    assert str(info.value) == v.NOT_NUMBER.format(column="rooms", value="[1, 2]", type="list", row=1)


def test_number_in_text_column_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(city=pd.Series(["x", 3], dtype=object)), schema)
    assert str(info.value) == v.NOT_TEXT.format(column="city", value="3", type="int", row=1)


def test_numeric_column_where_text_expected_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(city=[1.5, 2.5]), schema)
    assert str(info.value) == v.NOT_TEXT.format(column="city", value="1.5", type="float", row=0)


def test_text_in_boolean_column_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(flag=["yes", True]), schema)
    assert str(info.value) == v.NOT_BOOLEAN.format(column="flag", value="'yes'", type="str", row=0)


def test_bad_datetime_named(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(_good().assign(when=["2024-01-01", "soon"]), schema)
    assert str(info.value) == v.NOT_DATETIME.format(column="when", value="'soon'", type="str", row=1)


def test_no_rows(schema):
    with pytest.raises(StewardInputError, match=v.NO_ROWS):
        validate_frame(_good().iloc[:0], schema)


def test_not_a_frame(schema):
    with pytest.raises(StewardInputError) as info:
        validate_frame(42, schema)
    assert str(info.value) == v.NOT_A_FRAME.format(type="int")


def test_bad_schema_messages():
    with pytest.raises(StewardInputError) as info:
        FeatureSchema(columns=("a",), kinds=("weird",))
    assert str(info.value) == v.BAD_SCHEMA.format(detail=f"unknown kind(s) ['weird']; expected one of {v.KINDS}")
    with pytest.raises(StewardInputError) as info:
        FeatureSchema(columns=("a", "b"), kinds=("numeric",))
    assert str(info.value) == v.BAD_SCHEMA.format(detail="2 columns but 1 kinds")


def test_payloads_as_mlflow_parses_them_without_a_schema(schema):
    """``inputs`` records hold 0-d arrays; ``instances`` columns may be object arrays of them."""
    records = [
        {"rooms": np.array(1.5), "age": np.array(3), "city": np.array("x"), "flag": np.array(True), "when": None},
        {"rooms": np.array(2.0), "age": np.array(4), "city": None, "flag": None, "when": np.array("2024-01-01")},
    ]
    out = validate_frame(records, schema)
    assert out["rooms"].tolist() == [1.5, 2.0] and out["city"].tolist()[0] == "x"
    columns = {
        "rooms": np.array([np.array(1.5), None], dtype=object), "age": np.array([1, 2]),
        "city": np.array(["x", "y"]), "flag": np.array([True, False]), "when": np.array(["2024-01-01", None]),
    }  # fmt: skip
    out = validate_frame(columns, schema)
    assert out["rooms"].iloc[0] == 1.5 and np.isnan(out["rooms"].iloc[1])
    one = {"rooms": np.array(1.0), "age": np.array(2), "city": np.array("z"), "flag": np.array(False), "when": None}
    assert len(validate_frame(one, schema)) == 1


@pytest.mark.parametrize(
    ("sent", "shown", "type_name"),
    [
        (float("inf"), "inf", "float"),  # JSON Infinity, and 1e309, parse to this
        (float("-inf"), "-inf", "float"),
        ("inf", "'inf'", "str"),
        ("-Infinity", "'-Infinity'", "str"),
        ("1e400", "'1e400'", "str"),
        (10**400, "1" + "0" * 39 + "... (401 digits)", "int"),  # larger than any float
    ],
)
def test_non_finite_numbers_are_refused_naming_the_column(schema, sent, shown, type_name):
    frame = _good().assign(rooms=pd.Series([1.0, sent], dtype=object))
    with pytest.raises(StewardInputError) as info:
        validate_frame(frame, schema)
    assert str(info.value) == v.NOT_FINITE.format(column="rooms", value=shown, type=type_name, row=1)


def test_non_finite_refused_in_float_and_nullable_columns(schema):
    for rooms in (pd.Series([1.0, np.inf]), pd.array([1.0, -np.inf], dtype="Float64")):
        with pytest.raises(StewardInputError, match="column 'rooms' expects a finite number"):
            validate_frame(_good().assign(rooms=rooms), schema)
    big = pd.Series([1, 10**300], dtype=object)  # a large but finite integer is a number like any other
    assert validate_frame(_good().assign(rooms=big), schema)["rooms"].iloc[1] == float(10**300)


def test_duplicated_columns_are_named(schema):
    frame = pd.concat([_good(), _good()[["rooms"]]], axis=1)
    with pytest.raises(StewardInputError) as info:
        validate_frame(frame, schema)
    assert str(info.value) == v.DUPLICATE_COLUMNS.format(names="'rooms'")


@pytest.mark.parametrize(
    ("value", "shown", "type_name"),
    [
        (np.array([1, 2]), "[1, 2]", "list"),  # a nested list as MLflow's parsing hands it over
        ({"a": 1}, "{'a': 1}", "dict"),
        ("x" * 5000, repr("x" * 40) + "... (5,000 characters)", "str"),
        (list(range(100)), "[0, 1, 2, 3, 4, 5, ...]", "list"),
    ],
)
def test_bad_values_are_quoted_short(schema, value, shown, type_name):
    frame = _good().assign(age=pd.Series([1, value], dtype=object))
    with pytest.raises(StewardInputError) as info:
        validate_frame(frame, schema)
    assert str(info.value) == v.NOT_NUMBER.format(column="age", value=shown, type=type_name, row=1)
    assert len(str(info.value)) < 300
