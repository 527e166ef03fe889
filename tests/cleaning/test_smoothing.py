import re

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.cleaning import (
    CleaningColumnError,
    CleaningParameterError,
    ExponentialSmoother,
    MovingAverageSmoother,
)
from mlflow_steward.cleaning._errors import COLUMN_MISSING, PARAM_INT, PARAM_NUMBER, PARAM_ORDER_BY


def _smooth(smoother, values, **columns):
    frame = pd.DataFrame({"x": values, **columns})
    return smoother.fit_transform(frame)["x"].tolist()


def test_exponential_by_hand():
    # y0 = 1; y1 = 0.5 * 3 + 0.5 * 1 = 2; y2 = 0.5 * 5 + 0.5 * 2 = 3.5
    assert _smooth(ExponentialSmoother(alpha=0.5), [1.0, 3.0, 5.0]) == [1.0, 2.0, 3.5]


def test_exponential_matches_pandas_ewm_without_adjustment():
    values = np.random.default_rng(0).normal(size=200)
    expected = pd.Series(values).ewm(alpha=0.3, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(_smooth(ExponentialSmoother(), values), expected, rtol=1e-12)


def test_exponential_missing_stays_missing_and_recursion_skips_it():
    out = _smooth(ExponentialSmoother(alpha=0.5), [np.nan, 1.0, np.nan, 5.0])
    assert np.isnan(out[0]) and np.isnan(out[2])
    assert out[1] == 1.0 and out[3] == 3.0  # 0.5 * 5 + 0.5 * 1


def test_moving_average_by_hand():
    assert _smooth(MovingAverageSmoother(window=2), [1.0, 3.0, 5.0, 7.0]) == [1.0, 2.0, 4.0, 6.0]
    out = _smooth(MovingAverageSmoother(window=3), [1.0, np.nan, 5.0, 7.0])
    assert out[0] == 1.0 and np.isnan(out[1]) and out[2] == 3.0 and out[3] == 6.0


def test_order_by_sorts_then_restores_row_order():
    out = _smooth(ExponentialSmoother(alpha=0.5, order_by="t"), [5.0, 1.0, 3.0], t=[3, 1, 2])
    assert out == [3.5, 1.0, 2.0]


def test_default_columns_skip_order_by_and_strings():
    frame = pd.DataFrame({"x": [1.0, 2.0], "t": [1, 2], "s": ["a", "b"]})
    assert ExponentialSmoother(order_by="t").fit(frame).columns_ == ["x"]


def test_parameter_errors():
    frame = pd.DataFrame({"x": [1.0, 2.0], "t": [1, 2]})
    message = PARAM_INT.format(
        owner="MovingAverageSmoother", param="window", bounds=">= 1", value=0
    )
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        MovingAverageSmoother(window=0).fit(frame)
    for alpha in (0, 1.5):
        message = PARAM_NUMBER.format(
            owner="ExponentialSmoother", param="alpha", bounds="> 0.0 and <= 1.0", value=alpha
        )
        with pytest.raises(CleaningParameterError, match=re.escape(message)):
            ExponentialSmoother(alpha=alpha).fit(frame)
    message = PARAM_ORDER_BY.format(owner="ExponentialSmoother", column="t")
    with pytest.raises(CleaningParameterError, match=re.escape(message)):
        ExponentialSmoother(columns=["x", "t"], order_by="t").fit(frame)
    message = COLUMN_MISSING.format(
        owner="ExponentialSmoother", column="time", param="order_by", available=["x", "t"]
    )
    with pytest.raises(CleaningColumnError, match=re.escape(message)):
        ExponentialSmoother(order_by="time").fit(frame)
