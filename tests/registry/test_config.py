"""GateConfig: defaults, parsing once, errors naming the key."""

from __future__ import annotations

import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.registry import DEFAULT_THRESHOLDS, GateConfig
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._config import parse_threshold


def test_defaults():
    config = GateConfig()
    assert config.metric_for("regression") == "rmse"
    assert config.metric_for("classification") == "roc_auc"
    assert (config.margin, config.relative, config.confidence) == (0.01, True, 0.95)
    assert (config.n_resamples, config.min_slice_size, config.correction, config.alpha) == (2000, 30, "holm", 0.05)
    assert [str(t) for t in config.thresholds_for("regression")] == ["r2 >= 0"]
    assert [str(t) for t in config.thresholds_for("classification")] == ["roc_auc >= 0.5"]
    assert DEFAULT_THRESHOLDS["regression"] == {"r2": ">=0.0"}


def test_from_dict_round_trip():
    config = GateConfig.from_dict(
        {"metric": "mae", "margin": 500, "relative": False, "slice_columns": ["a", "b"],
         "crosses": [["a", "b"]], "thresholds": {"r2": ">=0.5", "rmse": 80000}, "correction": "bh"}
    )
    assert config.slice_columns == ("a", "b") and config.crosses == (("a", "b"),)
    assert [str(t) for t in config.thresholds_for("regression")] == ["r2 >= 0.5", "rmse <= 80000"]
    assert GateConfig.from_dict(config.to_dict()) == config
    assert GateConfig.coerce(None) == GateConfig() and GateConfig.coerce(config) is config


def test_unknown_key_names_it_and_suggests_the_close_one():
    with pytest.raises(StewardInputError) as err:
        GateConfig.from_dict({"margn": 0.1}, source="--gate-config")
    assert str(err.value).startswith("unknown key 'margn' in --gate-config; did you mean 'margin'? (expected one of metric, margin,")
    with pytest.raises(StewardInputError) as err:
        GateConfig.from_dict({"zzz": 0.1})
    assert str(err.value).startswith("unknown key 'zzz' in the gate config (expected one of metric, margin,")


def test_not_a_mapping():
    with pytest.raises(StewardInputError) as err:
        GateConfig.from_dict(["metric"])
    assert str(err.value) == msg.CONFIG_NOT_MAPPING.format(type="list")


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("margin", -0.1, "a number >= 0"),
        ("margin", "1%", "a number >= 0"),
        ("confidence", 1.0, "a number above 0 and below 1"),
        ("alpha", 0, "a number above 0 and below 1"),
        ("n_resamples", 50, "an integer >= 100"),
        ("n_resamples", 500.0, "an integer >= 100"),
        ("min_slice_size", 1, "an integer of at least 2"),
        ("correction", "bonferroni", "'holm' or 'bh'"),  # the slice keys: worded by the shared SliceSpec
        ("slice_columns", "ocean_proximity", "a list of column names"),
        ("crosses", [["a"]], "a list of [column, column] pairs"),
        ("relative", "yes", "true or false"),
        ("random_state", -1, "an integer >= 0 or null"),
    ],
)
def test_bad_scalars_name_the_key(key, value, expected):
    with pytest.raises(StewardInputError) as err:
        GateConfig.from_dict({key: value})
    assert str(err.value) == f"gate config {key!r} must be {expected}, got {value!r}"


@pytest.mark.parametrize(
    "key,value,problem",
    [
        ("thresholds", [">=0.5"], "expected a mapping such as {'r2': '>=0.5'}"),
    ],
)
def test_bad_values_name_the_key(key, value, problem):
    with pytest.raises(StewardInputError) as err:
        GateConfig.from_dict({key: value})
    assert str(err.value) == msg.CONFIG_BAD_VALUE.format(key=key, problem=problem, value=value)


def test_unknown_metric():
    with pytest.raises(StewardInputError) as err:
        GateConfig(metric="rsme")
    assert str(err.value).startswith("gate config 'metric': unknown metric 'rsme'; expected one of ")


@pytest.mark.parametrize("value", ["=>0.5", "0.5 or more", ">=", True, float("nan")])
def test_bad_threshold(value):
    with pytest.raises(StewardInputError) as err:
        GateConfig(thresholds={"r2": value})
    assert str(err.value) == msg.CONFIG_BAD_THRESHOLD.format(metric="r2", value=value)


def test_threshold_metric_must_exist():
    with pytest.raises(StewardInputError, match="'thresholds.accuracyy': unknown metric"):
        GateConfig(thresholds={"accuracyy": 0.5})


@pytest.mark.parametrize(
    "metric,value,bound,holds",
    [("r2", ">=0.5", 0.5, True), ("r2", ">0.5", 0.5, False), ("rmse", "<= 80000", 79999, True),
     ("rmse", 80000, 80001, False), ("roc_auc", 0.7, 0.71, True), ("rmse", "<1e5", 1e5, False)],
)
def test_threshold_semantics(metric, value, bound, holds):
    assert parse_threshold(metric, value).holds(bound) is holds
