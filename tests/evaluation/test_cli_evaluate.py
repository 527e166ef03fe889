"""``steward evaluate``: bad input becomes one line on stderr and exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlflow_steward.cli._evaluate import command
from mlflow_steward.cli._main import _StewardGroup


@pytest.fixture
def group():
    steward = _StewardGroup("steward")
    steward.add_command(command)
    return steward


def _invoke(group, *args):
    return CliRunner().invoke(group, ["evaluate", *args])


def test_missing_data_file_is_one_line_and_exit_code_2(group, tmp_path):
    missing = tmp_path / "nope.csv"
    result = _invoke(group, "models:/m/1", "--data", str(missing), "--target", "y", "--task", "regression")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f"steward: error: dataset file {missing} does not exist"]


def test_bad_setting(group, tmp_path):
    result = _invoke(group, "models:/m/1", "--data", "x.csv", "--target", "y", "--task", "regression", "-c", "n_bins")
    assert result.exit_code == 2
    assert result.output.strip() == "steward: error: option --set: expected KEY=VALUE, got 'n_bins'"


def test_unknown_config_key_is_reported_before_loading_anything(group, tmp_path):
    result = _invoke(group, "models:/m/1", "--data", "x.csv", "--target", "y", "--task", "regressor", "-c", "bins=3")
    assert result.exit_code == 2
    assert result.output.strip().startswith("steward: error: unknown key 'bins' in --set; did you mean 'n_bins'? (expected one of metrics,")
    assert len(result.output.strip().splitlines()) == 1


def test_help_lists_the_options(group):
    result = _invoke(group, "--help")
    assert result.exit_code == 0
    for option in ("--data", "--target", "--task", "--model-type", "--config", "--set", "--run-id", "--experiment"):
        assert option in result.output
