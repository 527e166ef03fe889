import re

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.cleaning import CleaningError, CleaningParameterError, MissingMarkerReplacer
from mlflow_steward.cleaning._errors import EMPTY_INPUT, PARAM_STRINGS


def test_markers_become_nan_after_stripping_whitespace():
    frame = pd.DataFrame(
        {
            "s": pd.array(["x", "?", " ? ", "y", None], dtype="str"),
            "o": pd.Series(["?", "n/a", "ok", 3, np.nan], dtype=object),
            "n": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    replacer = MissingMarkerReplacer(markers=("?", " n/a "))
    out = replacer.fit_transform(frame)

    assert replacer.markers_ == ("?", "n/a")
    assert replacer.n_replaced_ == {"s": 2, "o": 2}
    assert out["s"].isna().tolist() == [False, True, True, False, True]
    assert out["o"].isna().tolist() == [True, True, False, False, True]
    assert out["o"][3] == 3  # a non-string cell is never a marker
    assert out["s"].dtype == frame["s"].dtype  # StringDtype kept
    pd.testing.assert_series_equal(out["n"], frame["n"])
    assert frame["s"][1] == "?"  # input untouched


def test_category_column_loses_marker_categories():
    frame = pd.DataFrame({"c": pd.Categorical(["a", "?", "b", "?"])})
    out = MissingMarkerReplacer().fit_transform(frame)
    assert isinstance(out["c"].dtype, pd.CategoricalDtype)
    assert list(out["c"].cat.categories) == ["a", "b"]
    assert out["c"].isna().tolist() == [False, True, False, True]


def test_array_in_array_out_and_set_output():
    X = np.array([["a", "?"], ["?", "b"]], dtype=object)
    out = MissingMarkerReplacer().fit_transform(X)
    assert isinstance(out, np.ndarray)
    assert out[0, 0] == "a" and pd.isna(out[0, 1]) and pd.isna(out[1, 0])
    frame = MissingMarkerReplacer().set_output(transform="pandas").fit_transform(X)
    assert list(frame.columns) == ["x0", "x1"]


def test_empty_markers_is_a_no_op():
    frame = pd.DataFrame({"s": ["?", "a"]})
    pd.testing.assert_frame_equal(MissingMarkerReplacer(markers=()).fit_transform(frame), frame)


@pytest.mark.parametrize("markers", ["?", ("?", 1), None])
def test_bad_markers(markers):
    message = PARAM_STRINGS.format(owner="MissingMarkerReplacer", param="markers", value=markers)
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        MissingMarkerReplacer(markers=markers).fit(pd.DataFrame({"s": ["a"]}))


def test_fitted_attributes_and_empty_frame():
    frame = pd.DataFrame({"a": ["x"], "b": [1.0]})
    replacer = MissingMarkerReplacer().fit(frame)
    assert replacer.n_features_in_ == 2
    assert list(replacer.feature_names_in_) == ["a", "b"]
    assert list(replacer.get_feature_names_out()) == ["a", "b"]
    empty = frame.iloc[:0]
    message = EMPTY_INPUT.format(
        n_samples=0, n_features=2, shape=(0, 2), owner="MissingMarkerReplacer"
    )
    with pytest.raises(CleaningError, match=re.escape(message)):
        MissingMarkerReplacer().fit(empty)
