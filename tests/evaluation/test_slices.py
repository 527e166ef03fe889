"""slice_masks: categorical values, quantile bins, crosses, queries, and their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.evaluation import EvaluationConfig, slice_masks
from mlflow_steward.exceptions import StewardInputError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "city": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
            "income": rng.normal(50, 10, n),
            "rooms": rng.integers(1, 4, n),  # 3 distinct values <= n_bins: sliced by value
            "marital-status": rng.choice(["single", "married"], n),
            "y": rng.normal(size=n),
        }
    )


def test_default_slices_every_categorical_and_numeric_column(frame):
    masks = slice_masks(frame, EvaluationConfig(), exclude=["y"])
    columns = list(dict.fromkeys(column for column, _ in masks))
    assert columns == ["city", "marital-status", "income", "rooms"]  # categorical first
    assert [v for c, v in masks if c == "city"] == ["a", "b", "c"]
    assert [v for c, v in masks if c == "rooms"] == ["1", "2", "3"]
    for mask in masks.values():
        assert mask.dtype == bool and mask.shape == (len(frame),)
    # each column's slices partition the rows
    for column in columns:
        assert sum(m for (c, _), m in masks.items() if c == column).max() == 1


def test_numeric_columns_are_cut_into_quantile_bins(frame):
    masks = slice_masks(frame, EvaluationConfig(slice_columns=("income",), n_bins=4))
    sizes = [int(m.sum()) for m in masks.values()]
    assert len(sizes) == 4 and all(99 <= s <= 101 for s in sizes)
    labels = [v for _, v in masks]
    assert labels[0].startswith("[") and all(label.startswith("(") for label in labels[1:])
    edges = np.quantile(frame["income"], [0.25, 0.5, 0.75])
    assert frame["income"][masks[("income", labels[0])]].max() <= edges[0]


def test_categorical_argument_overrides_dtype_detection(frame):
    masks = slice_masks(frame, EvaluationConfig(slice_columns=("income",)), categorical=["income"])
    assert len(masks) == frame["income"].nunique()


def test_missing_values_form_their_own_slice():
    frame = pd.DataFrame({"c": pd.array(["x", None, "y", None], dtype="string"), "v": [1.0, np.nan, 2.0, 3.0]})
    masks = slice_masks(frame, EvaluationConfig())
    assert masks[("c", "<missing>")].tolist() == [False, True, False, True]
    assert masks[("v", "<missing>")].tolist() == [False, True, False, False]


def test_crosses_give_every_observed_combination(frame):
    config = EvaluationConfig(slice_columns=(), crosses=(("city", "rooms"),))
    masks = slice_masks(frame, config)
    assert all(column == "city x rooms" for column, _ in masks)
    assert ("city x rooms", "a x 1") in masks
    expected = (frame["city"] == "a") & (frame["rooms"] == 1)
    np.testing.assert_array_equal(masks[("city x rooms", "a x 1")], expected.to_numpy())
    assert sum(masks.values()).max() == 1 and sum(m.sum() for m in masks.values()) == len(frame)


def test_query_slices(frame):
    config = EvaluationConfig(
        slice_columns=(),
        slice_queries={"rich": "income > 60", "married_a": "`marital-status` == 'married' and city == 'a'"},
    )
    masks = slice_masks(frame, config)
    assert list(masks) == [("query", "rich"), ("query", "married_a")]
    np.testing.assert_array_equal(masks[("query", "rich")], (frame["income"] > 60).to_numpy())
    expected = (frame["marital-status"] == "married") & (frame["city"] == "a")
    np.testing.assert_array_equal(masks[("query", "married_a")], expected.to_numpy())


def test_bad_query_names_the_slice(frame):
    config = EvaluationConfig(slice_columns=(), slice_queries={"oops": "no_such_column > 1"})
    with pytest.raises(StewardInputError) as err:
        slice_masks(frame, config)
    assert str(err.value).startswith("slice query 'oops' ('no_such_column > 1') failed: ")


def test_query_must_be_boolean(frame):
    config = EvaluationConfig(slice_columns=(), slice_queries={"sum": "income + 1"})
    with pytest.raises(StewardInputError) as err:
        slice_masks(frame, config)
    assert str(err.value) == "slice query 'sum' ('income + 1') must give one true/false value per row"


def test_unknown_slice_column(frame):
    with pytest.raises(StewardInputError) as err:
        slice_masks(frame, EvaluationConfig(slice_columns=("town",)))
    assert str(err.value) == "slice column 'town' is not in the data; columns: city, income, rooms, marital-status, y"
