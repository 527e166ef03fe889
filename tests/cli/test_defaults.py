"""One default per setting: the dataclass field. The CLI, the MLproject and the Python API take it from there."""

from __future__ import annotations

import inspect
from pathlib import Path

import click
import yaml

from mlflow_steward.cli import main
from mlflow_steward.cli._options import ConfigOption, build_config

REPO = Path(__file__).resolve().parents[2]


def _options(command: click.Command) -> list[click.Option]:
    found = []
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found += _options(sub)
    else:
        found += [p for p in command.params if isinstance(p, click.Option)]
    return found


def test_cli_options_carry_no_default_of_their_own():
    from click.core import UNSET

    with_defaults = [(o.name, o.default) for o in _options(main) if o.default not in (None, False, UNSET)]
    assert with_defaults == []
    config_options = [o for o in _options(main) if isinstance(o, ConfigOption)]
    assert len(config_options) >= 15
    assert all(o.default is None for o in config_options)


def test_no_options_gives_the_dataclass_defaults():
    from mlflow_steward.workflow import PipelineConfig

    assert build_config() == PipelineConfig()
    given = build_config(cv=5, seed=7, register=False, ensemble_method="none", gate_config='{"margin": 0.02}')
    assert (given.cv, given.random_state, given.register, given.ensemble, given.gate.margin) == (5, 7, False, None, 0.02)


def test_help_shows_the_dataclass_default():
    from click.testing import CliRunner

    from mlflow_steward.ensemble import EnsembleConfig
    from mlflow_steward.tuning import TuneConfig

    run_help = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    assert f"Cross-validation folds. [default: {TuneConfig().cv}]" in run_help
    ensemble_help = " ".join(CliRunner().invoke(main, ["ensemble", "--help"]).output.split())
    assert f"Greedy selection steps. [default: {EnsembleConfig().n_iterations}]" in ensemble_help


def test_python_api_defaults_are_the_dataclass_fields():
    from mlflow_steward.ensemble import EnsembleConfig, build_and_compare
    from mlflow_steward.tuning import TuneConfig, tune
    from mlflow_steward.workflow import PipelineConfig

    def defaults(function):
        return {k: p.default for k, p in inspect.signature(function).parameters.items()}

    tune_defaults, build_defaults = defaults(tune), defaults(build_and_compare)
    for name in ("strategy", "n_trials", "cv", "random_state", "n_jobs", "timeout"):
        assert tune_defaults[name] == getattr(TuneConfig(), name)
    for name in ("method", "n_iterations", "n_resamples", "confidence", "random_state"):
        assert build_defaults[name] == getattr(EnsembleConfig(), name)
    pipeline = PipelineConfig()
    assert (pipeline.cv, pipeline.n_trials, pipeline.strategy, pipeline.ensemble) == (
        TuneConfig().cv, TuneConfig().n_trials, TuneConfig().strategy, EnsembleConfig().method,
    )


def test_the_mlproject_passes_nothing_it_was_not_given():
    project = yaml.safe_load((REPO / "MLproject").read_text())
    for entry, spec in project["entry_points"].items():
        for name, parameter in spec["parameters"].items():
            assert parameter.get("default", "") == "", (entry, name, parameter)
