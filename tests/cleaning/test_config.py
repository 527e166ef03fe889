import json
import re
from dataclasses import fields

import pytest

from mlflow_steward.cleaning import CleaningConfig, CleaningConfigError
from mlflow_steward.cleaning._errors import (
    CONFIG_INT,
    CONFIG_MISSING_SUBKEY,
    CONFIG_NOT_DICT,
    CONFIG_NOT_MAPPING,
    CONFIG_NUMBER,
    CONFIG_OPTION,
    CONFIG_QUANTILES,
    CONFIG_RATIOS,
    CONFIG_STRINGS,
    CONFIG_UNKNOWN_KEY,
)

KNOWN = [field.name for field in fields(CleaningConfig)]


def test_defaults():
    config = CleaningConfig()
    assert config.numeric_imputation == "median"
    assert config.categorical_imputation == "most_frequent"
    assert config.outliers == "quantile"
    assert config.outlier_quantiles == (0.01, 0.99)
    assert config.scaling == "standard"
    assert config.ratios == ()
    assert config.cluster_similarity is None and config.smoothing is None
    assert config.missing_markers == ("?",)


def test_round_trip_through_json_fills_defaults():
    config = CleaningConfig(
        outliers="iqr",
        outlier_factor=3,
        scaling="minmax",
        ratios=[["rooms_per_house", "total_rooms", "households"]],
        cluster_similarity={"columns": ["latitude", "longitude"]},
        smoothing={"method": "exponential", "columns": ["median_income"]},
        missing_markers=["?", "n/a"],
    )
    assert config.ratios == (("rooms_per_house", "total_rooms", "households"),)
    assert config.cluster_similarity == {
        "columns": ("latitude", "longitude"),
        "n_clusters": 10,
        "gamma": 1.0,
        "random_state": 42,
    }
    assert config.smoothing == {
        "method": "exponential",
        "columns": ("median_income",),
        "alpha": 0.3,
    }
    assert CleaningConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert CleaningConfig.from_dict({}) == CleaningConfig()


def _fails(message, **data):
    with pytest.raises(CleaningConfigError, match=f"^{re.escape(message)}$"):
        CleaningConfig.from_dict(data)


def _unknown(key, known, hint=""):
    return CONFIG_UNKNOWN_KEY.format(key=key, where="CleaningConfig", hint=hint, known=", ".join(known))


def test_unknown_keys_are_named_with_the_close_one_suggested():
    _fails(_unknown("scaler", KNOWN, "; did you mean 'scaling'?"), scaler="standard")
    _fails(_unknown("nope", KNOWN), nope=1)
    _fails(
        _unknown("cluster_similarity.k", ["columns", "n_clusters", "gamma", "random_state"]),
        cluster_similarity={"columns": ["a"], "k": 3},
    )
    _fails(
        _unknown("smoothing.windw", ["method", "columns", "window"], "; did you mean 'smoothing.window'?"),
        smoothing={"method": "moving_average", "columns": ["a"], "windw": 3},
    )
    with pytest.raises(CleaningConfigError) as err:
        CleaningConfig.from_dict({"nope": 1}, source="--cleaning-config")
    assert str(err.value).startswith("unknown key 'nope' in --cleaning-config (expected one of numeric_imputation,")


def test_bad_values_are_named():
    _fails(
        CONFIG_OPTION.format(
            key="numeric_imputation",
            options=["median", "mean", "most_frequent", "constant"],
            value="mode",
        ),
        numeric_imputation="mode",
    )
    _fails(
        CONFIG_OPTION.format(key="scaling", options=["standard", "minmax", None], value="robust"),
        scaling="robust",
    )
    _fails(
        CONFIG_OPTION.format(key="outliers", options=["iqr", "quantile", None], value="zscore"),
        outliers="zscore",
    )
    _fails(CONFIG_NUMBER.format(key="outlier_factor", bounds=">= 0.0", value=-1), outlier_factor=-1)
    _fails(CONFIG_QUANTILES.format(value=[0.5]), outlier_quantiles=[0.5])
    _fails(CONFIG_RATIOS.format(value=[["r", "a"]]), ratios=[["r", "a"]])
    _fails(CONFIG_STRINGS.format(key="missing_markers", value="?"), missing_markers="?")
    _fails(CONFIG_NOT_DICT.format(key="cluster_similarity", value=5), cluster_similarity=5)
    _fails(
        CONFIG_MISSING_SUBKEY.format(key="cluster_similarity", subkey="columns"),
        cluster_similarity={"n_clusters": 3},
    )
    _fails(
        CONFIG_INT.format(key="cluster_similarity.n_clusters", bounds=">= 1", value=0),
        cluster_similarity={"columns": ["a"], "n_clusters": 0},
    )
    _fails(
        CONFIG_MISSING_SUBKEY.format(key="smoothing", subkey="method"),
        smoothing={"columns": ["a"]},
    )
    _fails(
        CONFIG_OPTION.format(
            key="smoothing.method", options=["moving_average", "exponential"], value="kalman"
        ),
        smoothing={"method": "kalman", "columns": ["a"]},
    )
    _fails(
        CONFIG_NUMBER.format(key="smoothing.alpha", bounds="> 0.0 and <= 1.0", value=2),
        smoothing={"method": "exponential", "columns": ["a"], "alpha": 2},
    )


def test_from_dict_needs_a_mapping():
    message = CONFIG_NOT_MAPPING.format(type="list")
    with pytest.raises(CleaningConfigError, match=re.escape(message)):
        CleaningConfig.from_dict([])


def test_frozen():
    with pytest.raises(AttributeError):
        CleaningConfig().scaling = None
