"""Every bad input raises StatsInputError with its exact message (constants from _errors)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mlflow_steward.stats import (
    METRICS,
    StatsInputError,
    benjamini_hochberg,
    bootstrap_interval,
    holm,
    paired_bootstrap,
    rmse_t_interval,
    t_interval,
)
from mlflow_steward.stats import _errors as E
from mlflow_steward.stats._validation import MIN_RESAMPLES, MIN_ROWS

Y = np.arange(10, dtype=float) + 1
P = Y + 0.5


def _raises(message: str):
    return pytest.raises(StatsInputError, match=f"^{re.escape(message)}$")


def test_is_a_value_error():
    assert issubclass(StatsInputError, ValueError)


def test_too_few_rows():
    with _raises(E.MSG_TOO_FEW_ROWS.format(name="y_true", n=1, minimum=MIN_ROWS)):
        bootstrap_interval("rmse", [1.0], [2.0])
    with _raises(E.MSG_TOO_FEW_ROWS.format(name="values", n=1, minimum=MIN_ROWS)):
        t_interval([1.0])
    with _raises(E.MSG_TOO_FEW_ROWS.format(name="y_true", n=0, minimum=MIN_ROWS)):
        rmse_t_interval([], [])


def test_non_finite_values_name_the_argument_and_count():
    y = Y.copy()
    y[[2, 5]] = np.nan
    with _raises(E.MSG_NOT_FINITE.format(name="y_true", count=2, n=10)):
        bootstrap_interval("rmse", y, P)
    p = P.copy()
    p[0] = np.inf
    with _raises(E.MSG_NOT_FINITE.format(name="y_pred", count=1, n=10)):
        rmse_t_interval(Y, p)
    with _raises(E.MSG_NOT_FINITE.format(name="pred_b", count=1, n=10)):
        paired_bootstrap("mae", Y, P, p)
    with _raises(E.MSG_NOT_FINITE.format(name="values", count=1, n=3)):
        t_interval([1.0, np.nan, 2.0])
    with _raises(E.MSG_NOT_FINITE.format(name="y_true", count=1, n=3)):
        bootstrap_interval("mae", np.array([1.0, None, 2.0], dtype=object), [1.0, 2.0, 3.0])


def test_missing_labels():
    y = np.array(["a", None, "b", "a"], dtype=object)
    with _raises(E.MSG_MISSING_LABELS.format(name="y_true", count=1, n=4)):
        bootstrap_interval("accuracy", y, ["a", "a", "b", "b"])
    with _raises(E.MSG_MISSING_LABELS.format(name="y_true", count=1, n=3)):
        bootstrap_interval("roc_auc", [0, np.nan, 1], [0.1, 0.2, 0.3])


def test_length_mismatch():
    with _raises(E.MSG_LENGTH_MISMATCH.format(name="y_pred", n=9, other="y_true", n_other=10)):
        bootstrap_interval("rmse", Y, P[:9])
    with _raises(E.MSG_LENGTH_MISMATCH.format(name="pred_a", n=8, other="y_true", n_other=10)):
        paired_bootstrap("rmse", Y, P[:8], P)
    with _raises(E.MSG_LENGTH_MISMATCH.format(name="y_pred", n=3, other="y_true", n_other=2)):
        rmse_t_interval([1.0, 2.0], [1.0, 2.0, 3.0])


def test_shape_and_type():
    with _raises(E.MSG_NOT_1D.format(name="y_true", shape=(5, 2))):
        bootstrap_interval("rmse", np.ones((5, 2)), np.ones(5))
    with _raises(E.MSG_NOT_NUMERIC.format(name="y_pred", dtype=np.dtype("<U1"))):
        bootstrap_interval("rmse", [1.0, 2.0], ["a", "b"])
    y = np.array([1, "a", 2], dtype=object)
    try:
        np.unique(np.concatenate([y, y]))
    except TypeError as exc:
        error = exc
    with _raises(E.MSG_MIXED_LABELS.format(name="y_true and y_pred", error=error)):
        bootstrap_interval("accuracy", y, y)


def test_single_class_where_the_metric_is_undefined():
    with _raises(E.MSG_ONE_CLASS.format(metric="roc_auc", label=1)):
        bootstrap_interval("roc_auc", np.ones(10, dtype=int), np.linspace(0, 1, 10))
    with _raises(E.MSG_ONE_CLASS.format(metric="f1", label="yes")):
        bootstrap_interval("f1", ["yes"] * 5, ["yes"] * 5)
    with _raises(E.MSG_ONE_CLASS.format(metric="log_loss", label="yes")):
        bootstrap_interval("log_loss", ["yes"] * 5, [0.5] * 5)
    with _raises(E.MSG_F1_NO_POSITIVE.format(label=1)):
        bootstrap_interval("f1", [0, 0, 0], [0, 0, 0])
    with _raises(E.MSG_CLASS_ABSENT.format(metric="roc_auc", label=1)):
        METRICS["roc_auc"].fn([0, 2, 0, 2], np.full((4, 3), 1 / 3))


def test_constant_y_true_and_zero_for_mape():
    with _raises(E.MSG_CONSTANT_Y_TRUE.format(value=3.0)):
        bootstrap_interval("r2", [3.0] * 6, [1.0, 2, 3, 4, 5, 6])
    with _raises(E.MSG_MAPE_ZERO.format(count=2)):
        bootstrap_interval("mape", [0.0, 1, 0, 2], [1.0, 1, 1, 1])


def test_probabilities():
    with _raises(E.MSG_PROBA_RANGE.format(metric="log_loss", count=2)):
        bootstrap_interval("log_loss", [0, 1, 0, 1], [-0.1, 0.5, 1.5, 0.5])
    with _raises(
        E.MSG_PROBA_SHAPE.format(metric="brier", k=1, n_classes=3, classes=["a", "b", "c"])
    ):
        bootstrap_interval("brier", ["a", "b", "c", "a"], [0.2, 0.3, 0.4, 0.5])
    with _raises(E.MSG_PROBA_SHAPE.format(metric="roc_auc", k=3, n_classes=2, classes=["a", "b"])):
        bootstrap_interval("roc_auc", ["a", "b", "a", "b"], np.full((4, 3), 1 / 3))


def test_unknown_metric_lists_the_valid_names():
    with _raises(E.MSG_UNKNOWN_METRIC.format(name="rsme", valid=sorted(METRICS))):
        bootstrap_interval("rsme", Y, P)
    with _raises(E.MSG_UNKNOWN_METRIC.format(name="auc", valid=sorted(METRICS))):
        paired_bootstrap("auc", Y, P, P)
    with _raises(E.MSG_METRIC_TYPE.format(type="int")):
        bootstrap_interval(3, Y, P)


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, True, "0.95", None])
def test_bad_confidence(value):
    with _raises(E.MSG_BAD_CONFIDENCE.format(value=value)):
        bootstrap_interval("rmse", Y, P, confidence=value)
    with _raises(E.MSG_BAD_CONFIDENCE.format(value=value)):
        t_interval(Y, confidence=value)


@pytest.mark.parametrize("value", [MIN_RESAMPLES - 1, 0, 100.0, True, "999"])
def test_bad_n_resamples(value):
    with _raises(E.MSG_BAD_N_RESAMPLES.format(minimum=MIN_RESAMPLES, value=value)):
        bootstrap_interval("rmse", Y, P, n_resamples=value)
    with _raises(E.MSG_BAD_N_RESAMPLES.format(minimum=MIN_RESAMPLES, value=value)):
        paired_bootstrap("rmse", Y, P, P, n_resamples=value)


@pytest.mark.parametrize("value", ["basic", "BCa ", None, 1])
def test_bad_method(value):
    with _raises(E.MSG_BAD_METHOD.format(valid=["percentile", "bca"], value=value)):
        bootstrap_interval("rmse", Y, P, method=value)
    with _raises(E.MSG_BAD_METHOD.format(valid=["percentile", "bca"], value=value)):
        paired_bootstrap("rmse", Y, P, P, method=value)


def test_method_is_case_insensitive():
    assert bootstrap_interval("rmse", Y, P, method="BCa", n_resamples=50).method == "bca"


def test_bad_n_jobs_and_random_state():
    with _raises(E.MSG_BAD_N_JOBS.format(value=0)):
        bootstrap_interval("rmse", Y, P, n_jobs=0)
    with _raises(E.MSG_BAD_RANDOM_STATE.format(value=-1)):
        bootstrap_interval("rmse", Y, P, random_state=-1)
    with _raises(E.MSG_BAD_RANDOM_STATE.format(value="seed")):
        bootstrap_interval("rmse", Y, P, random_state="seed")


def test_strata_length():
    with _raises(E.MSG_STRATA_LENGTH.format(n=3, n_true=10)):
        bootstrap_interval("rmse", Y, P, strata=[0, 1, 0])


def test_undefined_in_resamples_suggests_strata():
    y = np.zeros(30, dtype=int)
    y[:2] = 1  # 2 positives: (28/30)^30 = 13% of resamples have none
    s = np.linspace(0, 1, 30)
    pattern = re.escape(
        E.MSG_UNDEFINED_RESAMPLES.format(metric="roc_auc", count=999999, total=1000)
    ).replace("999999", r"\d+")
    with pytest.raises(StatsInputError, match=f"^{pattern}$"):
        bootstrap_interval("roc_auc", y, s, n_resamples=1000, random_state=0)
    bootstrap_interval("roc_auc", y, s, n_resamples=1000, random_state=0, strata=y)


def test_undefined_jackknife_suggests_percentile():
    y = np.zeros(20, dtype=int)
    y[0] = 1  # leaving out the only positive leaves one class
    s = np.linspace(0, 1, 20)
    with _raises(E.MSG_UNDEFINED_JACKKNIFE.format(metric="roc_auc", count=1, total=20)):
        bootstrap_interval("roc_auc", y, s, method="bca", n_resamples=100, strata=y)


def test_callable_returning_nan():
    def broken(y_true, y_pred):
        return float("nan")

    with _raises(E.MSG_METRIC_NOT_FINITE.format(metric="broken", value=float("nan"))):
        bootstrap_interval(broken, Y, P)


@pytest.mark.parametrize("adjust", [holm, benjamini_hochberg])
def test_bad_p_values(adjust):
    with _raises(E.MSG_P_VALUES.format(count=2)):
        adjust([0.1, np.nan, 1.2])
    with _raises(E.MSG_NOT_1D.format(name="p_values", shape=(2, 2))):
        adjust([[0.1, 0.2], [0.3, 0.4]])
    with _raises(E.MSG_P_VALUES.format(count=2)):
        adjust(["a", "b"])
