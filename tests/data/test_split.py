"""split_train_test: sizes, stratification, determinism, row-order independence, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.data import DatasetSpec, load_dataset, split_train_test, stratification_labels
from mlflow_steward.data import _split
from mlflow_steward.exceptions import StewardInputError

ADULT = DatasetSpec(target="salary", task="classification", missing_markers=("?",))
HOUSING = DatasetSpec(target="median_house_value", task="regression", stratify_column="median_income")


@pytest.fixture(scope="module")
def housing(housing_path):
    return load_dataset(housing_path, HOUSING)


@pytest.fixture(scope="module")
def adult(adult_path):
    return load_dataset(adult_path, ADULT)


@pytest.fixture(scope="module")
def housing_split(housing):
    return split_train_test(housing.frame, housing.spec)


def _row_keys(frame: pd.DataFrame) -> list[int]:
    return sorted(pd.util.hash_pandas_object(frame, index=False).tolist())


def test_sizes_and_partition(housing, housing_split):
    train, test = housing_split
    n = len(housing.frame)
    assert len(test) == math.ceil(0.2 * n) and len(train) + len(test) == n
    assert set(train.index).isdisjoint(test.index)
    assert sorted([*train.index, *test.index]) == list(housing.frame.index)
    assert train.index.is_monotonic_increasing and test.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(test, housing.frame.loc[test.index])


def test_income_bins_keep_their_proportions(housing, housing_split):
    _, test = housing_split
    bins = pd.qcut(housing.frame["median_income"], 5, labels=False)
    full = bins.value_counts(normalize=True).sort_index()
    in_test = bins.loc[test.index].value_counts(normalize=True).sort_index()
    assert np.abs(full - in_test).max() < 0.01


def test_income_categories_as_in_the_housing_example(housing, housing_split):
    """Géron's income categories (pd.cut at 1.5, 3, 4.5, 6) stay close to the full data too."""
    _, test = housing_split
    cats = pd.cut(housing.frame["median_income"], [0, 1.5, 3, 4.5, 6, np.inf], labels=False)
    full = cats.value_counts(normalize=True).sort_index()
    in_test = cats.loc[test.index].value_counts(normalize=True).sort_index()
    assert np.abs(full - in_test).max() < 0.01


def test_regression_without_stratify_column_uses_target_bins(housing):
    spec = DatasetSpec(target="median_house_value", task="regression").resolve(housing.frame)
    _, test = split_train_test(housing.frame, spec, n_bins=10)
    bins = pd.qcut(housing.frame["median_house_value"], 10, labels=False)
    full = bins.value_counts(normalize=True).sort_index()
    in_test = bins.loc[test.index].value_counts(normalize=True).sort_index()
    assert np.abs(full - in_test).max() < 0.002


def test_categorical_stratify_column(housing):
    spec = DatasetSpec(target="median_house_value", task="regression", stratify_column="ocean_proximity")
    _, test = split_train_test(housing.frame, spec)
    full = housing.frame["ocean_proximity"].value_counts(normalize=True)
    in_test = test["ocean_proximity"].value_counts(normalize=True).reindex(full.index, fill_value=0)
    assert np.abs(full - in_test).max() < 0.002


def test_class_balance_for_adult(adult):
    train, test = split_train_test(adult.frame, adult.spec, test_size=0.25)
    full = adult.frame["salary"].value_counts(normalize=True)
    for part in (train, test):
        share = part["salary"].value_counts(normalize=True).reindex(full.index)
        assert np.abs(full - share).max() < 1 / len(test)


def test_deterministic_across_calls(housing, housing_split):
    train, test = split_train_test(housing.frame, housing.spec)
    pd.testing.assert_frame_equal(train, housing_split[0])
    pd.testing.assert_frame_equal(test, housing_split[1])


def test_seed_changes_the_test_set(housing, housing_split):
    _, other = split_train_test(housing.frame, housing.spec, random_state=7)
    assert set(other.index) != set(housing_split[1].index)


def test_independent_of_row_order(housing, housing_split):
    shuffled = housing.frame.sample(frac=1.0, random_state=0)
    _, test = split_train_test(shuffled, housing.spec)
    assert set(test.index) == set(housing_split[1].index)


def test_independent_of_row_order_in_the_file(housing, housing_split, tmp_path):
    path = tmp_path / "shuffled.csv"
    housing.frame.sample(frac=1.0, random_state=1).to_csv(path, index=False)
    reloaded = load_dataset(path, HOUSING)
    _, test = split_train_test(reloaded.frame, reloaded.spec)
    assert _row_keys(test) == _row_keys(housing_split[1])


def test_missing_stratify_values_form_a_stratum():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    frame.loc[:39, "x"] = np.nan
    frame.loc[50, "y"] = np.nan
    spec = DatasetSpec(target="y", task="regression", stratify_column="x")
    labels = stratification_labels(frame.dropna(subset=["y"]), spec)
    assert (labels == "<missing>").sum() == 40
    with pytest.raises(StewardInputError) as info:
        split_train_test(frame, spec)
    assert str(info.value) == _split.SPLIT_TARGET_NAN.format(target="y", count=1)
    _, test = split_train_test(frame.dropna(subset=["y"]), spec, test_size=0.25)
    assert test["x"].isna().sum() == 10


def test_single_row_strata_join_the_largest():
    frame = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 10 + ["c"], "y": np.arange(21.0)})
    spec = DatasetSpec(target="y", task="regression", stratify_column="g")
    labels = stratification_labels(frame, spec)
    assert labels.iloc[-1] in {"a", "b"}
    train, test = split_train_test(frame, spec)
    assert len(train) + len(test) == 21


def test_class_with_one_row():
    frame = pd.DataFrame({"x": range(11), "c": ["a"] * 5 + ["b"] * 5 + ["z"]})
    spec = DatasetSpec(target="c", task="classification")
    with pytest.raises(StewardInputError) as info:
        split_train_test(frame, spec)
    assert str(info.value) == _split.SPLIT_CLASS_TOO_SMALL.format(value="z", target="c", count=1)


def test_more_classes_than_test_rows():
    frame = pd.DataFrame({"x": range(60), "c": [f"k{i // 2}" for i in range(60)]})
    spec = DatasetSpec(target="c", task="classification")
    with pytest.raises(StewardInputError) as info:
        split_train_test(frame, spec, test_size=0.1)
    prefix = _split.SPLIT_FAILED.format(rows=60, strata="'c'", reason="")
    assert str(info.value).startswith(prefix) and len(str(info.value)) > len(prefix)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_size": 0.0}, _split.SPLIT_BAD_TEST_SIZE.format(value=0.0)),
        ({"test_size": 1}, _split.SPLIT_BAD_TEST_SIZE.format(value=1)),
        ({"test_size": "0.2"}, _split.SPLIT_BAD_TEST_SIZE.format(value="0.2")),
        ({"random_state": None}, _split.SPLIT_BAD_RANDOM_STATE.format(value=None)),
        ({"random_state": 1.5}, _split.SPLIT_BAD_RANDOM_STATE.format(value=1.5)),
        ({"n_bins": 1}, _split.SPLIT_BAD_N_BINS.format(value=1)),
        ({"n_bins": True}, _split.SPLIT_BAD_N_BINS.format(value=True)),
    ],
)
def test_bad_arguments(kwargs, message):
    frame = pd.DataFrame({"x": range(10), "y": range(10)})
    with pytest.raises(StewardInputError) as info:
        split_train_test(frame, DatasetSpec(target="y", task="regression"), **kwargs)
    assert str(info.value) == message


def test_not_a_frame():
    with pytest.raises(StewardInputError) as info:
        split_train_test(np.zeros((3, 2)), DatasetSpec(target="y", task="regression"))
    assert str(info.value) == _split.SPLIT_NOT_A_FRAME.format(kind="ndarray")
