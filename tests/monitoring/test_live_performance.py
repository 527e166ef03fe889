"""Live performance of a window: interval coverage by simulation, the alarm rule (worse side, margin,
both directions), false alarms when nothing changed, verdicts below the label minimum, slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.monitoring import PerformanceConfig, Baseline, measure_window
from mlflow_steward.monitoring._performance import NOT_ENOUGH, NO_LABELS, OK, WORSE, parse_metric_text, baselines_of

FAST = PerformanceConfig(n_resamples=400, min_labels=30)


def test_rmse_interval_covers_the_true_rmse_at_its_level():
    """Windows of 300 labelled rows, errors N(0, 10): the true RMSE is 10; a 95% interval should cover
    it in about 95% of windows (200 windows: 0.89 .. 0.99 holds with probability > 0.99)."""
    rng = np.random.default_rng(7)
    covered = 0
    reps = 200
    for i in range(reps):
        y_pred = rng.normal(100, 20, 300)
        y_true = y_pred + rng.normal(0, 10, 300)
        result = measure_window("regression", y_true, y_pred, config=PerformanceConfig(metrics=["rmse"], n_resamples=400,
                                                                                         random_state=i))  # fmt: skip
        metric = result.metric("rmse")
        covered += metric.low <= 10.0 <= metric.high
    assert 0.89 <= covered / reps <= 0.99, covered


def test_accuracy_interval_covers_the_true_accuracy():
    rng = np.random.default_rng(11)
    covered, reps = 0, 200
    for i in range(reps):
        y_true = rng.integers(0, 2, 400)
        right = rng.random(400) < 0.8
        y_pred = np.where(right, y_true, 1 - y_true)
        result = measure_window("classification", y_true, y_pred,
                                config=PerformanceConfig(metrics=["accuracy"], n_resamples=400, random_state=i))  # fmt: skip
        metric = result.metric("accuracy")
        covered += metric.low <= 0.8 <= metric.high
    assert 0.89 <= covered / reps <= 0.99, covered


def test_no_alarm_when_the_world_matches_the_test_value():
    """Same error distribution as at test time, margin 5%: alarms must be rare (the interval must lie
    5% beyond the test value); 200 windows give at most a handful."""
    rng = np.random.default_rng(3)
    alarms = 0
    for i in range(200):
        y_pred = rng.normal(0, 1, 300)
        y_true = y_pred + rng.normal(0, 1, 300)
        result = measure_window("regression", y_true, y_pred, test_values={"rmse": Baseline(1.0)},
                                config=PerformanceConfig(metrics=["rmse"], n_resamples=400, random_state=i))  # fmt: skip
        alarms += result.worse
    assert alarms <= 4


def test_alarm_rule_worse_side_and_margin_in_both_directions():
    rng = np.random.default_rng(0)
    y_pred = rng.normal(0, 1, 2000)
    y_true = y_pred + rng.normal(0, 2, 2000)  # rmse about 2
    lower_test = measure_window("regression", y_true, y_pred, test_values={"rmse": Baseline(1.0)}, config=FAST)
    assert lower_test.status == WORSE and lower_test.metric("rmse").alarm
    assert lower_test.metric("rmse").threshold == pytest.approx(1.05)
    better_now = measure_window("regression", y_true, y_pred, test_values={"rmse": Baseline(4.0)}, config=FAST)
    assert better_now.status == OK  # better than at test time is never an alarm
    wide_margin = measure_window("regression", y_true, y_pred, test_values={"rmse": Baseline(1.0)},
                                 config=PerformanceConfig(min_labels=30, n_resamples=400, margins={"rmse": 5.0}))  # fmt: skip
    assert wide_margin.status == OK and wide_margin.metric("rmse").threshold == pytest.approx(6.0)

    y = rng.integers(0, 2, 1000)
    guess = np.where(rng.random(1000) < 0.7, y, 1 - y)  # accuracy about 0.7
    score = measure_window("classification", y, guess, test_values={"accuracy": Baseline(0.85)},
                           config=PerformanceConfig(metrics=["accuracy"], min_labels=30, n_resamples=400))  # fmt: skip
    metric = score.metric("accuracy")
    assert metric.greater_is_better and metric.alarm and metric.high < metric.threshold == pytest.approx(0.85 * 0.95)


def test_label_minimum_and_no_labels_are_verdicts():
    assert measure_window("regression", [], [], config=FAST).status == NO_LABELS
    few = measure_window("regression", np.ones(10), np.zeros(10), test_values={"rmse": Baseline(0.1)}, config=FAST)
    assert few.status == NOT_ENOUGH and few.overall == () and not few.worse
    assert "not enough labels" in few.summary()


def test_slices_get_intervals_and_a_worse_than_test_flag():
    rng = np.random.default_rng(5)
    n = 1200
    city = rng.choice(["a", "b"], n)
    y_pred = rng.normal(0, 1, n)
    noise = np.where(city == "b", 3.0, 1.0)
    y_true = y_pred + rng.normal(0, 1, n) * noise
    result = measure_window("regression", y_true, y_pred, features=pd.DataFrame({"city": city}),
                            test_values={"rmse": Baseline(1.0)}, categorical=("city",),
                            config=PerformanceConfig(metrics=["rmse"], n_resamples=400, min_labels=30))  # fmt: skip
    table = result.by_slice.set_index("slice_value")
    assert table.loc["b", "worse_than_test"] and not table.loc["a", "worse_than_test"]
    assert table.loc["b", "ci_low"] < table.loc["b", "value"] < table.loc["b", "ci_high"]
    assert set(result.frame()["slice_column"]) == {"overall", "city"}


def test_test_values_from_run_metrics_then_registration_tags():
    values = baselines_of({"rmse": 10.0, "rmse_ci_low": 9.0, "rmse_ci_high": 11.0},
                            {"steward.metric.mae": "7,100 [6,900, 7,300]", "steward.metric.rmse": "99"})  # fmt: skip
    assert values["rmse"] == Baseline(10.0, 9.0, 11.0)  # exact run metric wins over the tag text
    assert values["mae"] == Baseline(7100.0, 6900.0, 7300.0)
    assert parse_metric_text("not a number") is None
