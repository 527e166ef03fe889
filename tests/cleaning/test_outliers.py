import re

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.cleaning import CleaningColumnError, CleaningParameterError, OutlierClipper
from mlflow_steward.cleaning._errors import (
    COLUMN_NOT_NUMERIC,
    PARAM_NUMBER,
    PARAM_OPTION,
    PARAM_QUANTILES,
)


def test_iqr_bounds_by_hand():
    # q1 = 2, q3 = 4, IQR = 2: bounds 2 - 1.5 * 2 = -1 and 4 + 1.5 * 2 = 7
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0], "label": list("abcde")})
    clipper = OutlierClipper().fit(frame)
    assert clipper.columns_ == ["x"]
    assert clipper.lower_ == {"x": -1.0}
    assert clipper.upper_ == {"x": 7.0}
    assert clipper.n_clipped_ == {"x": 1}
    out = clipper.transform(frame)
    assert out["x"].tolist() == [1.0, 2.0, 3.0, 4.0, 7.0]
    assert out["label"].tolist() == list("abcde")


def test_iqr_factor_and_count_on_new_data():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]})  # q1 = 2, q3 = 4
    clipper = OutlierClipper(factor=0.5).fit(frame)  # bounds 1 and 5
    assert (clipper.lower_["x"], clipper.upper_["x"]) == (1.0, 5.0)
    new = pd.DataFrame({"x": [0.0, 1.0, 5.0, 6.0, np.nan]})
    assert clipper.count_clipped(new) == {"x": 2}
    out = clipper.transform(new)["x"].tolist()
    assert out[:4] == [1.0, 1.0, 5.0, 5.0] and np.isnan(out[4])  # NaN stays missing


def test_quantile_bounds_match_numpy():
    values = np.arange(101.0)
    clipper = OutlierClipper(method="quantile", quantiles=(0.1, 0.9))
    clipper.fit(pd.DataFrame({"x": values}))
    assert (clipper.lower_["x"], clipper.upper_["x"]) == (10.0, 90.0)
    assert clipper.n_clipped_ == {"x": 20}


def test_zero_iqr_column_is_left_unclipped():
    frame = pd.DataFrame({"flag": [0, 0, 0, 0, 1, 0], "x": [1, 2, 3, 4, 5, 6]})
    clipper = OutlierClipper().fit(frame)
    assert clipper.lower_["flag"] == -np.inf and clipper.upper_["flag"] == np.inf
    assert clipper.transform(frame)["flag"].tolist() == [0, 0, 0, 0, 1, 0]


def test_bounds_ignore_missing_values():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 3.0, 4.0, 5.0]})
    clipper = OutlierClipper().fit(frame)
    assert (clipper.lower_["x"], clipper.upper_["x"]) == (-1.0, 7.0)


def test_parameter_errors():
    frame = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    cases = [
        (
            OutlierClipper(method="zscore"),
            PARAM_OPTION.format(
                owner="OutlierClipper", param="method", options=["iqr", "quantile"], value="zscore"
            ),
        ),
        (
            OutlierClipper(factor=-1),
            PARAM_NUMBER.format(owner="OutlierClipper", param="factor", bounds=">= 0.0", value=-1),
        ),
        (
            OutlierClipper(method="quantile", quantiles=(0.9, 0.1)),
            PARAM_QUANTILES.format(owner="OutlierClipper", param="quantiles", value=(0.9, 0.1)),
        ),
    ]
    for clipper, message in cases:
        with pytest.raises(CleaningParameterError, match=re.escape(message)):
            clipper.fit(frame)
    message = COLUMN_NOT_NUMERIC.format(
        owner="OutlierClipper", column="s", dtype=frame["s"].dtype, hint=""
    )
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        OutlierClipper(columns=["s"]).fit(frame)
