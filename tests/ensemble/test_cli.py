"""``steward ensemble``: arguments reach build_and_compare; our errors are one line, exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlflow_steward.cli import main
from mlflow_steward.cli._ensemble import ensemble
from mlflow_steward.ensemble import _messages as msg


@pytest.fixture(autouse=True)
def _attached():
    if "ensemble" not in main.commands:  # the lead attaches it in cli/_main.py
        main.add_command(ensemble)
        yield
        main.commands.pop("ensemble", None)
    else:
        yield


class _Outcome:
    run_id, model_uri, model_version = "r", "models:/m-1", None

    def summary(self):
        return "summary line"


def test_arguments_are_passed_through(monkeypatch):
    seen = {}

    def fake(tune_run_id, **kwargs):
        seen.update(kwargs, tune_run_id=tune_run_id)
        return _Outcome()

    monkeypatch.setattr("mlflow_steward.ensemble.build_and_compare", fake)
    result = CliRunner().invoke(
        main, ["ensemble", "--tune-run", "T", "--runs", "a, b", "--method", "stacking", "--register", "m"]
    )
    assert result.exit_code == 0, result.output
    assert "summary line" in result.output and "ensemble run: r" in result.output
    assert seen["tune_run_id"] == "T" and seen["runs"] == ["a", "b"] and seen["method"] == "stacking"
    assert seen["register"] == "m" and seen["best_n"] is None and seen["per_family"] is None


def test_unknown_tune_run_is_one_line_and_exit_2(mlflow_store):
    import mlflow

    result = CliRunner().invoke(main, ["ensemble", "--tune-run", "nope", "--method", "mean"])
    assert result.exit_code == 2
    assert result.output.strip() == "steward: error: " + msg.TUNE_RUN_NOT_FOUND.format(
        run_id="nope", uri=mlflow.get_tracking_uri()
    )


def test_bad_method_is_rejected_by_click():
    result = CliRunner().invoke(main, ["ensemble", "--tune-run", "T", "--method", "vote"])
    assert result.exit_code == 2 and "vote" in result.output
