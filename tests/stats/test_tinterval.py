"""t_interval and rmse_t_interval against scipy.stats.t, and their coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.stats import rmse_t_interval, t_interval


def test_t_interval_matches_scipy():
    x = np.random.default_rng(0).exponential(size=57)
    iv = t_interval(x, confidence=0.9)
    low, high = stats.t.interval(0.9, df=56, loc=x.mean(), scale=stats.sem(x))
    assert (iv.estimate, iv.low, iv.high) == pytest.approx((x.mean(), low, high), rel=1e-12)
    assert iv.method == "t" and iv.confidence == 0.9


def test_rmse_t_interval_is_sqrt_of_the_squared_error_interval():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    p = y + rng.normal(0, 0.5, 200)
    sq = (y - p) ** 2
    low, high = stats.t.interval(0.95, df=199, loc=sq.mean(), scale=stats.sem(sq))
    iv = rmse_t_interval(y, p)
    assert iv.estimate == pytest.approx(math.sqrt(sq.mean()))
    assert (iv.low, iv.high) == pytest.approx((math.sqrt(low), math.sqrt(high)))
    assert iv.method == "t-sqrt"


def test_rmse_t_interval_clips_the_low_end_at_zero():
    y = np.zeros(3)
    p = np.array([0.0, 0.0, 3.0])  # squared errors 0, 0, 9: the MSE interval starts below 0
    iv = rmse_t_interval(y, p)
    assert iv.low == 0.0 and iv.high > iv.estimate == pytest.approx(math.sqrt(3))


def test_constant_values_give_a_zero_width_interval():
    iv = t_interval([2.0, 2.0, 2.0])
    assert iv.low == iv.estimate == iv.high == 2.0


def test_coverage_of_a_known_mean_and_rmse():
    """200 repetitions: the 95% intervals contain the true mean / RMSE 90-99% of the time."""
    rng = np.random.default_rng(2)
    mean_hits = rmse_hits = 0
    for _ in range(200):
        x = rng.normal(3.0, 2.0, 40)
        mean_hits += t_interval(x).contains(3.0)
        y = rng.normal(size=300)
        rmse_hits += rmse_t_interval(y, y + rng.normal(0, 1.5, 300)).contains(1.5)
    assert 0.90 <= mean_hits / 200 <= 0.99
    assert 0.90 <= rmse_hits / 200 <= 0.99
