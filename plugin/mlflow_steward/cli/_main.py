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
    ("_drift", "drift"),
    ("_score", "score"),
    ("_monitor", "monitor"),
    ("_monitor", "review"),
)


class _StewardGroup(click.Group):
    """Every error of ours, and every usage error, is one line on stderr and exit code 2.

    Click is run in non-standalone mode so that its own usage errors (several lines: usage, hint,
    error) are reported the same way; which exceptions count as bad input is decided in one place,
    :func:`mlflow_steward.cli._errors.is_user_error`. Anything else is a bug and keeps its traceback.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from mlflow_steward.cli._errors import EXIT_BAD_INPUT, is_user_error, one_line

        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # a group without its command: show its help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else (prog_name or "steward")
            click.echo(f"{where}: error: {one_line(exc.format_message()).rstrip('.')} (see '{where} --help')", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            click.echo(f"steward: error: {one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("steward: aborted", err=True)
            sys.exit(1)
        except Exception as exc:
            if not is_user_error(exc):
                raise
            click.echo(f"steward: error: {one_line(exc)}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        sys.exit(result if isinstance(result, int) else 0)


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
