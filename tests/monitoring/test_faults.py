"""Injected faults on the housing data: each alarms and names exactly the faulty column."""

from __future__ import annotations

import numpy as np
import pytest

from mlflow_steward.monitoring import check_drift


def _missing(frame, rng):
    frame.loc[rng.random(len(frame)) < 0.10, "total_rooms"] = np.nan
    return "total_rooms", "missing"


def _shifted_mean(frame, rng):
    frame["median_income"] += 0.3 * frame["median_income"].std()
    return "median_income", "mean_shift"


def _scaled_spread(frame, rng):
    centre = frame["housing_median_age"].mean()
    frame["housing_median_age"] = centre + 1.5 * (frame["housing_median_age"] - centre)
    return "housing_median_age", "std_shift"


def _new_category(frame, rng):
    frame.loc[rng.random(len(frame)) < 0.03, "ocean_proximity"] = "FLOODED"
    return "ocean_proximity", "new_category"


def _stuck(frame, rng):
    frame["latitude"] = 35.63  # a sensor stuck at a plausible value (close to the median)
    return "latitude", "std_shift"


def _noise(frame, rng):
    frame["population"] = rng.uniform(frame["population"].min(), frame["population"].max(), len(frame))
    return "population", "distribution"


@pytest.mark.parametrize("fault", [_missing, _shifted_mean, _scaled_spread, _new_category, _stuck, _noise])
def test_each_fault_alarms_on_its_column_only(housing_split, housing_reference, fault):
    window = housing_split[1].copy()
    column, check = fault(window, np.random.default_rng(0))
    result = check_drift(housing_reference, window)
    assert result.overall.drift and result.overall.exit_code == 3
    assert result.overall.features == (column,)
    assert check in result.by_column[column].alarms
    assert column in result.summary()


def test_the_healthy_window_does_not_alarm(housing_split, housing_reference):
    result = check_drift(housing_reference, housing_split[1])
    assert not result.overall.drift and result.overall.exit_code == 0
    assert result.overall.tested == 44  # 8 numeric columns x 5 checks + 1 categorical x 4
    frame = result.frame()
    assert set(frame["status"]) == {"ok"}
    assert frame["low"].notna().all() and frame["high"].notna().all()
    assert (frame["low"] <= frame["score"] + 1e-12).all() and (frame["score"] <= frame["high"] + 1e-12).all()


def test_a_small_window_with_a_fault_still_alarms(housing_split, housing_reference):
    window = housing_split[1].head(300).copy()
    window["median_income"] *= 1.3
    result = check_drift(housing_reference, window)
    assert result.overall.features == ("median_income",)
