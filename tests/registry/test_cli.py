"""``steward promote / rollback / status`` through click's CliRunner (a group built here)."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from mlflow_steward.cli import _registry
from mlflow_steward.cli._main import _StewardGroup
from mlflow_steward.registry import _messages as msg

GATE = json.dumps({"n_resamples": 500, "slice_columns": ["ocean_proximity"]})


@pytest.fixture
def cli():
    @click.group(cls=_StewardGroup)
    def steward() -> None:
        """test group"""

    for command in (_registry.promote, _registry.rollback, _registry.status):
        steward.add_command(command)
    runner = CliRunner()
    return lambda *args: runner.invoke(steward, list(args))


def test_promote_status_rollback(with_production, cli, aliases):
    result = cli("promote", "housing", "2", "--gate-config", GATE, "--reason", "better forest")
    assert result.exit_code == 0, result.output
    assert "PASSED housing version 2 (production moved to version 2)" in result.output
    assert "overall" in result.output and "ocean_proximity=INLAND" in result.output
    assert aliases()["production"] == "2"

    result = cli("status", "housing")
    assert result.exit_code == 0, result.output
    assert "housing: production = version 2, staging = –" in result.output
    assert "production history" in result.output and "better forest" in result.output

    result = cli("rollback", "housing", "--reason", "pager at 3am")
    assert result.exit_code == 0, result.output
    assert "rolled back housing: production version 2 -> 1 (history entry #3" in result.output
    assert aliases()["production"] == "1"

    report = json.loads(cli("status", "housing", "--json").stdout)
    assert report["production"] == "1" and [e["action"] for e in report["history"]] == [
        "promote", "promote", "rollback"
    ]
    assert report["history"][-1]["reason"] == "pager at 3am"


def test_rejection_exits_with_1(with_production, register, cli, aliases):
    register("shuffled")
    result = cli("promote", "housing", "3", "--gate-config", GATE)
    assert result.exit_code == 1, result.output
    assert "REJECTED housing version 3" in result.output and "is beyond" in result.output
    assert aliases()["production"] == "1"
    decision = json.loads(cli("promote", "housing", "3", "--gate-config", GATE, "--json").stdout)
    assert decision["verdict"] == "rejected" and decision["promoted"] is False


def test_unknown_model_is_one_line_and_exit_2(mlflow_store, cli):
    for args in (("status", "nope"), ("promote", "nope", "1"), ("rollback", "nope", "--reason", "x")):
        result = cli(*args)
        assert result.exit_code == 2
        assert result.stderr == f"steward: error: {msg.UNKNOWN_MODEL.format(name='nope')}\n"
        assert "Traceback" not in result.output


def test_spec_options_go_together(with_production, cli):
    result = cli("promote", "housing", "2", "--data", "x.csv", "--target", "median_house_value")
    assert result.exit_code == 2
    assert result.stderr.strip() == "steward: error: " + _registry.ERR_SPEC_OPTIONS.format(
        target="median_house_value", task=None
    )


def test_bad_gate_config_option(with_production, cli):
    result = cli("promote", "housing", "2", "--margin", "-1")
    assert result.exit_code == 2
    assert result.stderr.startswith("steward: error: gate config 'margin' must be a number >= 0")
