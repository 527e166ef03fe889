"""EvaluationConfig: parsed once, unknown keys and wrong types are errors naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from mlflow_steward.evaluation import EvaluationConfig
from mlflow_steward.evaluation import _config as C
from mlflow_steward.exceptions import StewardInputError

VALID_KEYS = ", ".join(f.name for f in dataclasses.fields(EvaluationConfig))


def test_defaults_match_the_contract():
    config = EvaluationConfig.from_dict({})
    assert config == EvaluationConfig()
    assert (config.confidence, config.n_resamples, config.method) == (0.95, 2000, "bca")
    assert (config.n_bins, config.min_slice_size, config.correction, config.alpha) == (4, 30, "holm", 0.05)
    assert config.metrics is None and config.slice_columns is None
    assert EvaluationConfig.from_dict(None) == EvaluationConfig()


def test_from_dict_converts_lists_and_round_trips():
    config = EvaluationConfig.from_dict(
        {
            "metrics": ["rmse", "mae"],
            "slice_columns": ["ocean_proximity"],
            "crosses": [["ocean_proximity", "median_income"]],
            "slice_queries": {"rich": "median_income > 8"},
            "n_resamples": 500,
            "confidence": 0.9,
            "correction": "bh",
        }
    )
    assert config.metrics == ("rmse", "mae")
    assert config.crosses == (("ocean_proximity", "median_income"),)
    assert EvaluationConfig.from_dict(config.to_dict()) == config
    # the constructor normalises the same way
    assert EvaluationConfig(metrics=["rmse", "mae"], crosses=[["ocean_proximity", "median_income"]]).crosses == (
        ("ocean_proximity", "median_income"),
    )


def test_unknown_key_names_the_key_suggests_the_close_one_and_lists_valid_ones():
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict({"n_resample": 10})
    assert str(err.value) == (
        f"unknown key 'n_resample' in evaluator_config; did you mean 'n_resamples'? (expected one of {VALID_KEYS})"
    )
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict({"zzz": 10}, source="--evaluation-config")
    assert str(err.value) == f"unknown key 'zzz' in --evaluation-config (expected one of {VALID_KEYS})"


def test_mlflow_builtin_keys_can_be_ignored():
    config = EvaluationConfig.from_dict({"log_model_explainability": False, "n_bins": 3}, ignore=C.MLFLOW_BUILTIN_KEYS)
    assert config.n_bins == 3
    with pytest.raises(StewardInputError, match="unknown key 'log_model_explainability'"):
        EvaluationConfig.from_dict({"log_model_explainability": False})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("n_resamples", "500", "evaluator_config['n_resamples'] must be an integer >= 1, got '500'"),
        ("n_resamples", True, "evaluator_config['n_resamples'] must be an integer >= 1, got True"),
        ("n_resamples", 2.5, "evaluator_config['n_resamples'] must be an integer >= 1, got 2.5"),
        ("confidence", "high", "evaluator_config['confidence'] must be a number above 0 and below 1, got 'high'"),
        ("metrics", "rmse", "evaluator_config['metrics'] must be a list of strings, got 'rmse'"),
        ("slice_columns", [1], "evaluator_config['slice_columns'] must be a list of column names, got [1]"),
        ("crosses", [["a"]], "evaluator_config['crosses'] must be a list of [column, column] pairs, got [['a']]"),
        ("slice_queries", ["a > 1"], "evaluator_config['slice_queries'] must be a dict of slice name -> query string, got ['a > 1']"),
        ("permutation_importance", "yes", "evaluator_config['permutation_importance'] must be true or false, got 'yes'"),
        ("random_state", 1.0, "evaluator_config['random_state'] must be an integer or null, got 1.0"),
        ("method", 3, "evaluator_config['method'] must be a string, got 3"),
    ],
)
def test_wrong_types(key, value, message):
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict({key: value})
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("method", "studentized", "evaluator_config['method'] must be one of ['bca', 'percentile'], got 'studentized'"),
        ("correction", "bonferroni", "evaluator_config['correction'] must be 'holm' or 'bh', got 'bonferroni'"),
        ("confidence", 1.0, "evaluator_config['confidence'] must be a number above 0 and below 1, got 1.0"),
        ("alpha", 0, "evaluator_config['alpha'] must be a number above 0 and below 1, got 0"),
        ("n_bins", 1, "evaluator_config['n_bins'] must be an integer of at least 2, got 1"),
        ("min_slice_size", 0, "evaluator_config['min_slice_size'] must be an integer of at least 2, got 0"),
        ("n_resamples", 0, "evaluator_config['n_resamples'] must be an integer >= 1, got 0"),
        ("metrics", [], "evaluator_config['metrics'] must name at least one metric (or be None for the defaults)"),
    ],
)
def test_bad_values(key, value, message):
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict({key: value})
    assert str(err.value) == message


def test_unknown_metric_lists_the_valid_ones():
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict({"metrics": ["rmse", "auc"]})
    assert str(err.value) == (
        "evaluator_config['metrics']: unknown metric 'auc'; valid metrics: "
        "rmse, mae, r2, mape, accuracy, f1, roc_auc, log_loss, brier"
    )


def test_config_must_be_a_mapping():
    with pytest.raises(StewardInputError) as err:
        EvaluationConfig.from_dict(["rmse"])
    assert str(err.value) == "evaluator_config must be a dict, got list"


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EvaluationConfig().n_bins = 3
