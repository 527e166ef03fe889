"""The ``steward`` click group and its error handling."""

from __future__ import annotations

import importlib
import os
import sys

import click

# (module, command attribute) pairs; each module defines one click command or group.
_COMMAND_MODULES: tuple[tuple[str, str], ...] = (
    ("_run", "run"),
    ("_run", "clean"),
    ("_run", "tune"),
    ("_evaluate", "command"),
    ("_ensemble", "ensemble"),
    ("_registry", "promote"),
    ("_registry", "rollback"),
    ("_registry", "status"),
    ("_capture", "capture"),
    ("_data", "data"),
    ("_retrain", "retrain"),
)


class _StewardGroup(click.Group):
    """Turns our errors into a one-line message and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context):
        from mlflow_steward.exceptions import StewardError

        expected: tuple[type[BaseException], ...] = (StewardError,)
        try:
            from mlflow_steward.stats import StatsInputError

            expected += (StatsInputError,)
        except ImportError:  # pragma: no cover - stats always ships with the package
            pass
        try:
            return super().invoke(ctx)
        except expected as exc:
            click.echo(f"steward: error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_StewardGroup)
@click.version_option(package_name="mlflow-steward")
def main() -> None:
    """mlflow-steward: clean, tune, evaluate, gate, promote, serve and roll back sklearn models in MLflow."""


def _quiet_mlflow() -> None:
    """Our steps download small artifacts often; MLflow's per-download progress bars are noise."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _attach_commands() -> None:
    for module_name, attribute in _COMMAND_MODULES:
        module = importlib.import_module(f"mlflow_steward.cli.{module_name}")
        main.add_command(getattr(module, attribute))


_quiet_mlflow()
_attach_commands()
