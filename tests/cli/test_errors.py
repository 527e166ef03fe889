"""Every ``steward`` subcommand answers bad input with one line on stderr and exit code 2.

The subcommands are enumerated from the click group, so a new one is covered automatically: with an
unknown option at once, and with a bad value as soon as it gets an entry in ``BAD_ARGUMENTS``
(the test fails until it has one). The bad values run in a real process (a traceback would show
on stderr) against a tracking URI that does not exist yet: nothing may be written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlflow_steward.cli import main
from mlflow_steward.cli._errors import USER_ERRORS, is_user_error, one_line

#: command path -> (arguments, text the one-line error must contain)
BAD_ARGUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "run": (["--gate-config", '{"margn": 0.02}'], ["'margn'", "--gate-config", "did you mean 'margin'"]),
    "clean": (["--cleaning-config", '{"nope": 1}'], ["'nope'", "--cleaning-config"]),
    "tune": (["--cv", "1"], ["cv", "got 1"]),
    "evaluate": (
        ["models:/m/1", "--data", "x.csv", "--target", "y", "--task", "regression", "-c", "n_resample=5"],
        ["'n_resample'", "--set", "did you mean 'n_resamples'"],
    ),
    "ensemble": (["--tune-run", "r", "--method", "greedi"], ["'greedi'", "did you mean 'greedy'"]),
    "promote": (["m", "abc"], ["VERSION", "'abc'"]),
    "rollback": (["m", "--to", "zero", "--reason", "bad launch"], ["--to", "'zero'"]),
    "status": ([" "], ["NAME"]),
    "capture export": (["--path", "missing.db", "--output", "window.csv"], ["missing.db"]),
    "capture label": (["--path", "missing.db", "--labels", "labels.csv"], ["labels.csv"]),
    "data add": (["no way", "batch.csv"], ["dataset name 'no way'"]),
    "data list": (["bad/name"], ["dataset name 'bad/name'"]),
    "data show": (["housing@zero"], ["positive whole number", "'zero'"]),
    "data rollback": (["housing", "--to", "zero", "--reason", "bad batch"], ["positive whole number", "'zero'"]),
    "retrain": (["housing", "--n-trials", "0"], ["n_trials", "got 0"]),
    "drift": (["m", "--data", "x.csv", "--config", '{"levle": 0.1}'], ["'levle'", "did you mean 'level'"]),
    "score": (["models:/m/1", "--input", "missing.parquet", "--output", "out"], ["missing.parquet", "does not exist"]),
    "monitor": (["m", "--capture", "c.db", "--config", '{"alerts": {"cooldown_hour": 1}}'],
                ["'cooldown_hour'", "did you mean 'cooldown_hours'"]),
    "review": (["m", "--capture", "c.db", "--n", "0", "--output", "q.csv"], ["--n", "got 0"]),
}


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaf_commands(command, (*prefix, name))
        else:
            found.append(" ".join((*prefix, name)))
    return found


COMMANDS = _leaf_commands(main)


def test_every_subcommand_has_a_bad_argument_case():
    assert len(COMMANDS) >= 10
    assert sorted(BAD_ARGUMENTS) == sorted(COMMANDS), "add the new subcommand to BAD_ARGUMENTS"


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_is_one_line_and_exit_2(command):
    result = CliRunner().invoke(main, [*command.split(), "--no-such-option"], prog_name="steward")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"steward {command}: error: No such option")
    assert "--no-such-option" in result.stderr


@pytest.mark.parametrize("command", sorted(BAD_ARGUMENTS))
def test_a_bad_value_is_one_line_exit_2_no_traceback_and_nothing_written(command, tmp_path):
    args, expected = BAD_ARGUMENTS[command]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    env.pop("MLFLOW_REGISTRY_URI", None)
    result = subprocess.run(
        [sys.executable, "-c", "from mlflow_steward.cli import main; main(prog_name='steward')",
         *command.split(), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("steward: error: ")
    for text in expected:
        assert text in lines[0]
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == [], "bad input must write nothing"


def test_the_error_list_is_ours_plus_the_two_leaf_packages():
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, RESOURCE_DOES_NOT_EXIST

    from mlflow_steward.cleaning import CleaningColumnError, CleaningConfigError
    from mlflow_steward.exceptions import StewardGateError, StewardInputError, StewardLockError
    from mlflow_steward.stats import StatsInputError

    assert [module for module, _ in USER_ERRORS] == [
        "mlflow_steward.exceptions", "mlflow_steward.cleaning._errors", "mlflow_steward.stats._errors",
    ]
    for error in (StewardInputError("x"), StewardGateError("x"), StewardLockError("x"), CleaningConfigError("x"),
                  CleaningColumnError("x"), StatsInputError("x"),
                  MlflowException("Run with id=x not found", RESOURCE_DOES_NOT_EXIST)):
        assert is_user_error(error), error
    for error in (ValueError("x"), KeyError("x"), MlflowException("boom", INTERNAL_ERROR)):
        assert not is_user_error(error), error
    assert one_line("a\n  b\n\nc ") == "a b c"


def test_a_bug_keeps_its_traceback(monkeypatch):
    import mlflow_steward.cli._registry as registry_cli

    def broken(name):
        raise KeyError("a bug")

    monkeypatch.setattr(registry_cli, "_name", broken)
    result = CliRunner().invoke(main, ["status", "m"], prog_name="steward")
    assert isinstance(result.exception, KeyError)
