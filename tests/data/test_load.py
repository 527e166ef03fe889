"""load_dataset: the shared datasets, text clean-up, Parquet, and one test per bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.data import DatasetSpec, dataset_digest, load_dataset
from mlflow_steward.data import _load, _spec
from mlflow_steward.exceptions import StewardInputError

ADULT = DatasetSpec(target="salary", task="classification", missing_markers=("?",))
HOUSING = DatasetSpec(target="median_house_value", task="regression", stratify_column="median_income")


@pytest.fixture(scope="module")
def adult(adult_path):
    return load_dataset(adult_path, ADULT)


@pytest.fixture(scope="module")
def housing(housing_path):
    return load_dataset(housing_path, HOUSING)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_housing_loads(housing, housing_path):
    raw = pd.read_csv(housing_path)
    assert len(housing.frame) + housing.duplicates_dropped == len(raw) == 20_640
    assert housing.spec.categorical == ("ocean_proximity",)
    assert "median_house_value" not in housing.spec.numeric
    assert len(housing.spec.numeric) == 8
    assert int(housing.frame["total_bedrooms"].isna().sum()) == int(raw["total_bedrooms"].isna().sum())
    assert housing.source == str(Path(housing_path).absolute())
    assert housing.digest == dataset_digest(housing.frame)
    assert housing.version == housing.digest[:12]


def test_adult_markers_become_nan_and_duplicates_are_counted(adult, adult_path):
    raw = pd.read_csv(adult_path, dtype=str, keep_default_na=False)
    unique = raw.drop_duplicates()
    assert adult.duplicates_dropped == len(raw) - len(unique)
    assert len(adult.frame) == len(unique)
    for column in ("workclass", "occupation", "native-country"):
        expected = int((unique[column].str.strip() == "?").sum())
        assert expected > 0
        assert int(adult.frame[column].isna().sum()) == expected
        assert not adult.frame[column].isin(["?"]).any()
    assert adult.spec.numeric == ("age", "hours-per-week")
    assert "salary" not in adult.spec.categorical
    assert "workclass" in adult.spec.categorical


def test_index_is_the_row_number_in_the_file(adult, adult_path):
    raw = pd.read_csv(adult_path, dtype=str, keep_default_na=False)
    kept = ~raw.duplicated(keep="first")
    assert list(adult.frame.index) == list(np.flatnonzero(kept.to_numpy()))


def test_leading_spaces_as_in_the_uci_file(adult, adult_path, tmp_path):
    """The UCI original writes ``39, State-gov, ...``: same data, same digest."""
    spaced = tmp_path / "adult_spaced.csv"
    spaced.write_text(Path(adult_path).read_text().replace(",", ", "))
    loaded = load_dataset(spaced, ADULT)
    assert loaded.duplicates_dropped == adult.duplicates_dropped
    assert loaded.digest == adult.digest


def test_text_cells_are_stripped_and_markers_match_with_spaces(tmp_path):
    path = _write(
        tmp_path / "d.csv",
        'a,b,c,y\n"  x ",1," ? ",1.0\n" ?",2,"-",2.0\n"x",3,"  ",3.0\n" y ","?",z,4.0\n',
    )
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", missing_markers=("?", "-")))
    frame = loaded.frame
    assert frame["a"].tolist()[0] == "x" and frame["a"].isna().tolist() == [False, True, False, False]
    assert frame["c"].isna().tolist() == [True, True, True, False]  # markers and blank cells
    assert frame["b"].isna().tolist() == [False, False, False, True]
    assert pd.api.types.is_float_dtype(frame["b"])  # the parser saw numbers once '?' was NaN
    assert loaded.spec.numeric == ("b",)


def test_duplicates_dropped_after_clean_up(tmp_path):
    path = _write(tmp_path / "d.csv", "a,y\nx,1\n x,1\nx ,1\nz,2\n?,3\n ?,3\n")
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", missing_markers=("?",)))
    assert loaded.duplicates_dropped == 3
    assert list(loaded.frame.index) == [0, 3, 4]


def test_gzip_csv(tmp_path, housing_path, housing):
    path = tmp_path / "housing.csv.gz"
    path.write_bytes(gzip.compress(Path(housing_path).read_bytes()))
    assert load_dataset(path, HOUSING).digest == housing.digest


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_matches_csv(adult_path, adult, tmp_path, suffix):
    path = tmp_path / f"adult{suffix}"
    pd.read_csv(adult_path).to_parquet(path)
    loaded = load_dataset(path, ADULT)
    assert loaded.duplicates_dropped == adult.duplicates_dropped
    assert loaded.spec == adult.spec
    pd.testing.assert_frame_equal(loaded.frame, adult.frame)


def test_parquet_markers_in_text_and_category_columns(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame(
        {
            "x": pd.Series(["1.5", " ? ", "2"], dtype="str"),
            "c": pd.Categorical(["a", "?", "b"]),
            "y": [1.0, 2.0, 3.0],
        }
    ).to_parquet(path)
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", missing_markers=("?",)))
    assert loaded.frame["x"].tolist()[0] == 1.5 and pd.isna(loaded.frame["x"].iloc[1])
    assert pd.api.types.is_float_dtype(loaded.frame["x"])
    assert loaded.frame["c"].isna().tolist() == [False, True, False]
    assert list(loaded.frame["c"].cat.categories) == ["a", "b"]
    assert loaded.spec.categorical == ("c",) and loaded.spec.numeric == ("x",)


def test_declared_numeric_text_is_converted(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"x": pd.Series(["1", "2.5", None], dtype="str"), "y": [1, 2, 3]}).to_parquet(path)
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", numeric=("x",)))
    assert loaded.frame["x"].tolist()[:2] == [1.0, 2.5]
    assert loaded.spec.categorical == ()


# --- bad inputs: one test each, exact messages ---------------------------------------------------


def _raises(path, spec) -> str:
    with pytest.raises(StewardInputError) as info:
        load_dataset(path, spec)
    return str(info.value)


def test_not_a_spec(tmp_path):
    with pytest.raises(StewardInputError) as info:
        load_dataset(tmp_path / "x.csv", {"target": "y"})
    assert str(info.value) == _load.NOT_A_SPEC.format(kind="dict")


def test_file_missing(tmp_path):
    path = tmp_path / "nope.csv"
    assert _raises(path, ADULT) == _load.FILE_MISSING.format(path=path)


@pytest.mark.parametrize(("name", "suffix"), [("d.xlsx", ".xlsx"), ("d.csv.zip", ".csv.zip"), ("d", "")])
def test_unsupported_extension(tmp_path, name, suffix):
    path = _write(tmp_path / name, "a,y\n1,2\n")
    assert _raises(path, ADULT) == _load.UNSUPPORTED_EXTENSION.format(path=path, suffix=suffix)


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("bad.csv.gz", b"not gzip at all", "CSV"),
        ("bad.parquet", b"not parquet", "Parquet"),
        ("latin.csv", b"a,y\n\xe9t\xe9,1\n", "CSV"),
        ("ragged.csv", b"a,y\n1,2,3,4\n5,6\n", "CSV"),
        ("ragged2.csv", b"a,y\n1,2\n3,4,5\n", "CSV"),
    ],
)
def test_file_unreadable(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_bytes(content)
    message = _raises(path, ADULT)
    prefix = _load.FILE_UNREADABLE.format(path=path, kind=kind, reason="")
    assert message.startswith(prefix) and len(message) > len(prefix)


def test_directory_is_unreadable(tmp_path):
    path = tmp_path / "folder.csv"
    path.mkdir()
    assert _raises(path, ADULT).startswith(_load.FILE_UNREADABLE.format(path=path, kind="CSV", reason=""))


@pytest.mark.parametrize(("name", "content"), [("zero.csv", ""), ("header.csv", "a,salary\n")])
def test_empty_csv(tmp_path, name, content):
    path = _write(tmp_path / name, content)
    assert _raises(path, ADULT) == _load.EMPTY_FILE.format(path=path)


def test_empty_parquet(tmp_path):
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float), "salary": pd.Series([], dtype=str)}).to_parquet(path)
    assert _raises(path, ADULT) == _load.EMPTY_FILE.format(path=path)


def test_missing_target(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b\n1,2\n")
    assert _raises(path, ADULT) == _spec.MISSING_COLUMN.format(
        source=f"dataset file {path}", role="target", column="salary", columns="a, b"
    )


@pytest.mark.parametrize(
    ("kwargs", "role"),
    [
        ({"categorical": ("gone",)}, "categorical"),
        ({"numeric": ("gone",)}, "numeric"),
        ({"id_column": "gone"}, "id"),
        ({"time_column": "gone"}, "time"),
        ({"stratify_column": "gone"}, "stratify"),
    ],
)
def test_listed_column_absent(tmp_path, kwargs, role):
    path = _write(tmp_path / "d.csv", "a,y\n1,2\n3,4\n")
    spec = DatasetSpec(target="y", task="regression", **kwargs)
    assert _raises(path, spec) == _spec.MISSING_COLUMN.format(
        source=f"dataset file {path}", role=role, column="gone", columns="a, y"
    )


def test_target_with_nan(tmp_path):
    path = _write(tmp_path / "d.csv", "a,salary\n1,>50K\n2,?\n3,\n4,<=50K\n")
    assert _raises(path, ADULT) == _load.TARGET_NAN.format(path=path, target="salary", count=2, total=4)


def test_declared_numeric_not_numeric(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b,y\n1,x,1\n2,3,2\n\"1,000\",3,3\nabc,4,4\n")
    spec = DatasetSpec(target="y", task="regression", numeric=("a",))
    assert _raises(path, spec) == _load.NOT_NUMERIC.format(
        path=path, column="a", count=2, examples="row 2: '1,000', row 3: 'abc'"
    )


# --- a numeric column with a few text cells (issue 12, defect 1) ---------------------------------


def _housing_with_text(housing_path, tmp_path, cells: dict[int, str], n: int = 1500) -> Path:
    """The issue's reproduction: a housing sample whose total_rooms has text in a few rows."""
    frame = pd.read_csv(housing_path).sample(n, random_state=0).reset_index(drop=True)
    frame["total_rooms"] = frame["total_rooms"].astype(object)
    for row, text in cells.items():
        frame.loc[row, "total_rooms"] = text
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def test_numeric_column_with_a_few_text_cells_is_refused(housing_path, tmp_path):
    path = _housing_with_text(housing_path, tmp_path, {0: "abc", 7: "unknown", 9: "abc"})
    spec = DatasetSpec(target="median_house_value", task="regression")
    assert _raises(path, spec) == _load.MOSTLY_NUMERIC.format(
        path=path, column="total_rooms", numbers=1497, present=1500, count=3, cells="cells are",
        examples="row 0: 'abc', row 7: 'unknown', row 9: 'abc'", markers="'abc,unknown'",
    )


def test_many_offending_cells_are_listed_first_five_and_counted(housing_path, tmp_path):
    cells = {row: f"x{row}" for row in range(0, 70, 10)}  # 7 cells, 99.5 % numbers
    path = _housing_with_text(housing_path, tmp_path, cells)
    message = _raises(path, DatasetSpec(target="median_house_value", task="regression"))
    assert "holds numbers in 1,493 of 1,500 non-missing rows, but 7 cells are not" in message
    assert "row 0: 'x0', row 10: 'x10', row 20: 'x20', row 30: 'x30', row 40: 'x40' and 2 more" in message
    assert "--missing-markers 'x0,x10,x20,x30,x40' ..." in message


def test_declaring_the_text_as_missing_markers_reads_numbers(housing_path, tmp_path):
    path = _housing_with_text(housing_path, tmp_path, {0: "abc", 9: "abc"})
    loaded = load_dataset(path, DatasetSpec(target="median_house_value", task="regression", missing_markers=("abc",)))
    assert "total_rooms" in loaded.spec.numeric and "total_rooms" not in loaded.spec.categorical
    assert loaded.frame["total_rooms"].isna().sum() == 2 and loaded.coerced == {}


def test_coerce_numeric_turns_the_text_into_counted_missing_values(housing_path, tmp_path):
    path = _housing_with_text(housing_path, tmp_path, {0: "abc", 7: "unknown", 9: "abc"})
    original = pd.read_csv(housing_path).sample(1500, random_state=0).reset_index(drop=True)
    spec = DatasetSpec(target="median_house_value", task="regression", coerce_numeric=("total_rooms",))
    loaded = load_dataset(path, spec)
    assert loaded.coerced == {"total_rooms": 3}
    assert pd.api.types.is_float_dtype(loaded.frame["total_rooms"])
    assert loaded.frame["total_rooms"].isna().sum() == 3
    assert loaded.frame["total_rooms"].isna()[[0, 7, 9]].all()
    kept = loaded.frame["total_rooms"].notna()
    assert (loaded.frame.loc[kept, "total_rooms"] == original.loc[kept, "total_rooms"]).all()
    assert loaded.spec.coerce_numeric == ("total_rooms",) and "total_rooms" in loaded.spec.numeric


def test_coerce_numeric_also_overrides_a_declared_numeric_refusal(tmp_path):
    path = _write(tmp_path / "d.csv", "a,y\n1,1\nabc,2\n3,3\n")
    spec = DatasetSpec(target="y", task="regression", numeric=("a",), coerce_numeric=("a",))
    loaded = load_dataset(path, spec)
    assert loaded.coerced == {"a": 1} and loaded.frame["a"].isna().tolist() == [False, True, False]


def test_coerce_numeric_on_a_clean_numeric_column_counts_zero(tmp_path):
    path = _write(tmp_path / "d.csv", "a,y\n1,1\n2,2\n")
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", coerce_numeric=("a",)))
    assert loaded.coerced == {"a": 0}


def test_mostly_text_column_stays_categorical(tmp_path):
    # 19 numbers and 2 words: 90 % < 95 %, a categorical column with numeric-looking codes
    rows = [f"{i},{i}" for i in range(19)] + ["low,19", "high,20"]
    path = _write(tmp_path / "d.csv", "code,y\n" + "\n".join(rows) + "\n")
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression"))
    assert loaded.spec.categorical == ("code",)


def test_declared_categorical_column_with_numbers_is_accepted(tmp_path):
    rows = [f"{i},{i}" for i in range(40)] + ["abc,40"]
    path = _write(tmp_path / "d.csv", "code,y\n" + "\n".join(rows) + "\n")
    loaded = load_dataset(path, DatasetSpec(target="y", task="regression", categorical=("code",)))
    assert loaded.spec.categorical == ("code",)
    with pytest.raises(StewardInputError, match="'code' holds numbers in 40 of 41"):
        load_dataset(path, DatasetSpec(target="y", task="regression"))


def test_parquet_object_column_with_a_stray_string_is_refused(tmp_path):
    path = tmp_path / "d.parquet"
    values = [float(i) for i in range(30)] + ["oops"]
    pd.DataFrame({"x": pd.Series(values, dtype=object).astype(str), "y": range(31)}).to_parquet(path)
    with pytest.raises(StewardInputError, match=r"'x' holds numbers in 30 of 31 non-missing rows.*row 30: 'oops'"):
        load_dataset(path, DatasetSpec(target="y", task="regression"))


def test_coerce_numeric_of_an_absent_column(tmp_path):
    path = _write(tmp_path / "d.csv", "a,y\n1,1\n2,2\n")
    message = _raises(path, DatasetSpec(target="y", task="regression", coerce_numeric=("gone",)))
    assert message.startswith(f"dataset file {path}: no coerce_numeric column 'gone'")


def test_regression_target_not_numeric(tmp_path):
    path = _write(tmp_path / "d.csv", "a,y\n1,1.5\n2,high\n3,2\n")
    spec = DatasetSpec(target="y", task="regression")
    assert _raises(path, spec) == _load.TARGET_NOT_NUMERIC.format(
        path=path, target="y", count=1, sample="high"
    )


def test_regression_target_bool_is_not_numeric(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"a": [1, 2], "y": [True, False]}).to_parquet(path)
    spec = DatasetSpec(target="y", task="regression")
    assert _raises(path, spec) == _load.TARGET_NOT_NUMERIC.format(
        path=path, target="y", count=2, sample=True
    )


def test_classification_single_class(tmp_path):
    path = _write(tmp_path / "d.csv", "a,salary\n1,>50K\n2,>50K\n")
    assert _raises(path, ADULT) == _load.SINGLE_CLASS.format(path=path, target="salary", value=">50K")


def test_duplicate_columns_after_strip(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"a": [1], "a ": [2], "y": [3.0]}).to_parquet(path)
    spec = DatasetSpec(target="y", task="regression")
    assert _raises(path, spec) == _load.DUPLICATE_COLUMNS.format(path=path, columns=["a"])
