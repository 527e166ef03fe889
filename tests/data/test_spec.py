"""DatasetSpec: validation at construction, resolution from dtypes, JSON round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from mlflow_steward.data import DatasetSpec
from mlflow_steward.data import _spec
from mlflow_steward.exceptions import StewardInputError


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "num": [1.0, 2.0, 3.0],
            "count": [1, 2, 3],
            "text": pd.Series(["a", "b", "c"], dtype="str"),
            "obj": pd.Series(["a", 1, None], dtype=object),
            "cat": pd.Categorical(["x", "y", "x"]),
            "flag": [True, False, True],
            "y": [0.5, 1.5, 2.5],
        }
    )


def test_resolve_auto_detects_roles_and_skips_target_id_time():
    spec = DatasetSpec(target="y", task="regression", id_column="id", time_column="when")
    resolved = spec.resolve(_frame())
    assert resolved.categorical == ("text", "obj", "cat", "flag")
    assert resolved.numeric == ("num", "count")
    assert resolved.feature_columns() == ["text", "obj", "cat", "flag", "num", "count"]
    assert resolved.is_resolved and not spec.is_resolved


def test_resolve_keeps_explicit_lists():
    spec = DatasetSpec(target="y", task="regression", categorical=("count",))
    resolved = spec.resolve(_frame())
    assert resolved.categorical == ("count",)
    assert resolved.numeric == ("id", "num")  # datetimes are not auto-detected as numeric

    spec = DatasetSpec(target="y", task="regression", numeric=["num"])
    assert spec.numeric == ("num",)  # lists become tuples
    assert spec.resolve(_frame()).categorical == ("text", "obj", "cat", "flag")


def test_resolve_handles_object_and_str_dtypes_alike():
    as_object = pd.DataFrame({"s": pd.Series(["a", "b"], dtype=object), "y": [1.0, 2.0]})
    as_str = pd.DataFrame({"s": pd.Series(["a", "b"], dtype="str"), "y": [1.0, 2.0]})
    as_string = pd.DataFrame({"s": pd.Series(["a", "b"], dtype="string"), "y": [1.0, 2.0]})
    spec = DatasetSpec(target="y", task="regression")
    for frame in (as_object, as_str, as_string):
        assert spec.resolve(frame).categorical == ("s",)


def test_single_string_is_a_one_column_list():
    assert DatasetSpec(target="y", task="regression", categorical="text").categorical == ("text",)
    assert DatasetSpec(target="y", task="regression", missing_markers="?").missing_markers == ("?",)


def test_json_round_trip():
    spec = DatasetSpec(
        target="y",
        task="classification",
        categorical=("a", "b"),
        numeric=("c",),
        missing_markers=("?", "NA"),
        id_column="id",
        time_column="t",
        stratify_column="c",
    )
    text = spec.to_json()
    assert DatasetSpec.from_json(text) == spec
    assert DatasetSpec.from_json(text).to_json() == text
    unresolved = DatasetSpec(target="y", task="regression")
    assert DatasetSpec.from_json(unresolved.to_json()) == unresolved


@pytest.mark.parametrize("task", ["regresion", "", None, "Classification"])
def test_invalid_task(task):
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target="y", task=task)
    assert str(info.value) == _spec.INVALID_TASK.format(task=task)


@pytest.mark.parametrize("target", ["", None, 3])
def test_invalid_target(target):
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target=target, task="regression")
    assert str(info.value) == _spec.INVALID_TARGET.format(target=target)


def test_invalid_column_name():
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target="y", task="regression", numeric=("a", 3))
    assert str(info.value) == _spec.INVALID_COLUMN_NAME.format(field="numeric", value=3)
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target="y", task="regression", id_column="")
    assert str(info.value) == _spec.INVALID_COLUMN_NAME.format(field="id_column", value="")


@pytest.mark.parametrize(
    ("kwargs", "column", "first", "second"),
    [
        ({"categorical": ("y",)}, "y", "target", "categorical"),
        ({"categorical": ("a",), "numeric": ("a",)}, "a", "categorical", "numeric"),
        ({"id_column": "a", "numeric": ("a",)}, "a", "id", "numeric"),
        ({"time_column": "y"}, "y", "target", "time"),
    ],
)
def test_column_role_conflict(kwargs, column, first, second):
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target="y", task="regression", **kwargs)
    assert str(info.value) == _spec.COLUMN_ROLE_CONFLICT.format(
        column=column, first=first, second=second
    )


def test_feature_columns_needs_resolution():
    with pytest.raises(StewardInputError) as info:
        DatasetSpec(target="y", task="regression").feature_columns()
    assert str(info.value) == _spec.SPEC_NOT_RESOLVED.format(target="y")


def test_resolve_names_missing_column():
    spec = DatasetSpec(target="y", task="regression", stratify_column="nope")
    with pytest.raises(StewardInputError) as info:
        spec.resolve(_frame())
    assert str(info.value) == _spec.MISSING_COLUMN.format(
        source="frame",
        role="stratify",
        column="nope",
        columns="id, when, num, count, text, obj, cat, flag, y",
    )


def test_from_json_errors():
    with pytest.raises(StewardInputError) as info:
        DatasetSpec.from_json("{not json")
    assert str(info.value).startswith(_spec.SPEC_BAD_JSON.format(reason=""))
    with pytest.raises(StewardInputError) as info:
        DatasetSpec.from_json("[1, 2]")
    assert str(info.value) == _spec.SPEC_BAD_JSON.format(reason="expected an object, got [1, 2]")
    with pytest.raises(StewardInputError) as info:
        DatasetSpec.from_json('{"target": "y", "task": "regression", "colour": 1}')
    expected = [
        "target",
        "task",
        "categorical",
        "numeric",
        "missing_markers",
        "id_column",
        "time_column",
        "stratify_column",
        "coerce_numeric",
    ]
    assert str(info.value) == _spec.SPEC_UNKNOWN_KEYS.format(keys=["colour"], expected=expected)
    with pytest.raises(StewardInputError) as info:
        DatasetSpec.from_json('{"target": "y"}')
    assert str(info.value) == _spec.SPEC_MISSING_KEYS.format(keys=["task"])


def test_long_column_lists_are_cut_in_messages():
    text = _spec.describe_columns([f"c{i}" for i in range(40)])
    assert text.endswith("c29, ... (40 columns)")


def test_coerce_numeric_only_for_feature_columns():
    assert DatasetSpec(target="y", task="regression", coerce_numeric="a").coerce_numeric == ("a",)
    assert DatasetSpec(target="y", task="regression", numeric=("a",), coerce_numeric=("a",)).coerce_numeric == ("a",)
    for kwargs, role in (
        ({"coerce_numeric": ("y",)}, "target"),
        ({"coerce_numeric": ("a",), "categorical": ("a",)}, "categorical"),
        ({"coerce_numeric": ("i",), "id_column": "i"}, "id"),
    ):
        with pytest.raises(StewardInputError) as info:
            DatasetSpec(target="y", task="regression", **kwargs)
        column = kwargs["coerce_numeric"][0]
        assert str(info.value) == _spec.COERCE_ROLE_CONFLICT.format(column=column, role=role)


def test_coerce_numeric_in_json_only_when_set():
    plain = DatasetSpec(target="y", task="regression")
    assert "coerce_numeric" not in plain.to_json()  # specs without it keep their JSON (and step keys)
    coerced = DatasetSpec(target="y", task="regression", coerce_numeric=("a",))
    assert DatasetSpec.from_json(coerced.to_json()) == coerced
    assert '"coerce_numeric":["a"]' in coerced.to_json()
