"""``steward run`` (the main job), ``steward clean`` and ``steward tune``."""

from __future__ import annotations

import click

from mlflow_steward.cli._options import build_config, data_options, model_options, tune_options


@click.command("run")
@data_options
@tune_options
@model_options
def run(**options) -> None:
    """Load → clean → tune → fit → evaluate → register → promote, each step an MLflow run."""
    import mlflow

    from mlflow_steward.cli._summary import print_summary
    from mlflow_steward.workflow import run_pipeline

    config = build_config(**options)
    outcome = run_pipeline(config, echo=click.echo)
    print_summary(outcome, config, tracking_uri=mlflow.get_tracking_uri())


@click.command("clean")
@data_options
def clean(**options) -> None:
    """Load, validate, split and log the dataset with its cleaning report; print the run id."""
    from mlflow_steward.workflow import clean_step

    outcome = clean_step(build_config(**options), echo=click.echo)
    click.echo(f"data run: {outcome.run_id}")


@click.command("tune")
@data_options
@tune_options
@click.option("--data-run", default=None, help="A finished clean run to tune on (default: run clean).")
def tune(data_run: str | None, **options) -> None:
    """Tune model families on the training split; every trial is a child run."""
    from mlflow_steward.workflow import clean_step, tune_step

    config = build_config(**options)
    data_run = data_run or clean_step(config, echo=click.echo).run_id
    outcome = tune_step(config, data_run, echo=click.echo)
    click.echo(f"tune run: {outcome.run_id}")
