"""Bad windows and configs: a clear error naming the problem, or an explicit line, never a silent skip
or a NaN."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import DriftConfig, build_profile, check_drift


def test_a_missing_model_column_is_an_error(housing_split, housing_reference):
    with pytest.raises(StewardInputError, match=r"missing column\(s\) 'latitude' that the model was trained on"):
        check_drift(housing_reference, housing_split[1].drop(columns=["latitude"]))


def test_text_in_a_numeric_column_is_an_error_naming_column_value_and_row(housing_split, housing_reference):
    window = housing_split[1].copy()
    window["total_rooms"] = window["total_rooms"].astype(object)
    window.loc[7, "total_rooms"] = "n/a"
    with pytest.raises(StewardInputError, match=r"column 'total_rooms' must be numeric .* got 'n/a' \(str\) in row 7"):
        check_drift(housing_reference, window)


def test_booleans_in_a_numeric_column_are_an_error(housing_split, housing_reference):
    window = housing_split[1].copy()
    window["median_income"] = window["median_income"] > 3
    with pytest.raises(StewardInputError, match="'median_income' must be numeric"):
        check_drift(housing_reference, window)


def test_numbers_sent_as_text_are_read_as_numbers(housing_split, housing_reference):
    window = housing_split[1].copy()
    window["median_income"] = window["median_income"].astype(str)
    assert not check_drift(housing_reference, window).overall.drift


def test_zero_rows_is_an_error(housing_split, housing_reference):
    with pytest.raises(StewardInputError, match="no rows"):
        check_drift(housing_reference, housing_split[1].head(0))


def test_a_column_absent_from_the_reference_gets_its_own_line(housing_split, housing_reference):
    window = housing_split[1].assign(new_feature=1.0)
    result = check_drift(housing_reference, window)
    line = result.by_column["new_feature"]
    assert line.status == "not in reference" and line.checks[0].check == "presence"
    assert not result.overall.drift


def test_an_empty_column_says_no_data_and_alarms_on_missing(housing_split, housing_reference):
    window = housing_split[1].copy()
    window["total_rooms"] = np.nan
    result = check_drift(housing_reference, window)
    statuses = {o.check: o.status for o in result.by_column["total_rooms"].checks}
    assert statuses == {"missing": "drift", "mean_shift": "no data", "std_shift": "no data",
                        "out_of_range": "no data", "distribution": "no data"}  # fmt: skip
    assert result.overall.features == ("total_rooms",)


def test_a_constant_training_column_says_constant_not_nan():
    reference = build_profile(pd.DataFrame({"k": np.full(500, 3.0), "x": np.arange(500.0)}), progress=False)
    result = check_drift(reference, pd.DataFrame({"k": np.full(200, 3.0), "x": np.arange(200.0) * 2.5}))
    statuses = {o.check: o.status for o in result.by_column["k"].checks}
    assert statuses["mean_shift"] == "constant" and statuses["std_shift"] == "constant"
    for outcome in result.checks:
        for value in (outcome.score, outcome.low, outcome.high, outcome.p_value, outcome.p_adjusted):
            assert value is None or math.isfinite(value)
    assert "NaN" not in result.to_json()


def test_a_constant_training_column_alarms_when_the_value_changes():
    reference = build_profile(pd.DataFrame({"k": np.full(500, 3.0)}), progress=False)
    result = check_drift(reference, pd.DataFrame({"k": np.full(200, 4.0)}))
    assert result.by_column["k"].alarms == ("out_of_range", "distribution")


def test_a_single_row_window_is_checked_where_it_can_be(housing_split, housing_reference):
    result = check_drift(housing_reference, housing_split[1].head(1))
    assert {o.status for o in result.checks} <= {"ok", "too few rows"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"levle": 0.05}, "unknown key 'levle' (did you mean 'level'?)"),
        ({"min_effect": {"psi": 0.2}}, "unknown key 'psi'"),
        ({"level": 2}, "'level'] must be a number in"),
        ({"correction": "bonferroni"}, "'correction'] must be 'holm' or 'bh'"),
        ({"columns": ["median_incme"]}, "no column 'median_incme' (did you mean 'median_income'?)"),
    ],
)
def test_bad_config_is_an_error_naming_the_key(housing_split, housing_reference, config, message):
    with pytest.raises(StewardInputError) as caught:
        check_drift(housing_reference, housing_split[1], config=config)
    assert message in str(caught.value)


def test_config_from_json_text_or_file(tmp_path):
    path = tmp_path / "drift.json"
    path.write_text('{"level": 0.05, "min_effect": {"distribution": 0.2}}')
    assert DriftConfig.from_json(str(path)) == DriftConfig.from_json('{"level": 0.05, "min_effect": {"distribution": 0.2}}')
    assert DriftConfig.from_json(str(path)).min_effect.distribution == 0.2
    with pytest.raises(StewardInputError, match="cannot read"):
        DriftConfig.from_json("{level: 1")


def test_new_categories_are_not_guessed_when_training_had_too_many_to_keep():
    from mlflow_steward.monitoring import ProfileConfig

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"id": rng.integers(0, 50, 5000).astype(str)})
    reference = build_profile(train, config=ProfileConfig(max_categories=10), progress=False)
    result = check_drift(reference, pd.DataFrame({"id": rng.integers(0, 50, 500).astype(str)}))
    [outcome] = [o for o in result.checks if o.check == "new_category"]
    assert outcome.status == "too many categories" and outcome.p_value is None
    assert "40 categories beyond the 10 kept" in outcome.note
    assert not result.overall.drift
