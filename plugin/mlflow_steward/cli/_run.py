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
@click.option(
    "--parent-run",
    default=None,
    help="Join the study of this tune run (started with --workers) from another machine: run trials "
    "only, under that run; data and study come from the run (--storage if its URL has a password).",
)
@click.option(
    "--join",
    is_flag=True,
    help="Like --parent-run, for the running tune run of --study-name in the current experiment "
    "(waits for it up to 10 minutes: for workers started beside the coordinator, e.g. in docker-compose).",
)
def tune(data_run: str | None, parent_run: str | None, join: bool, **options) -> None:
    """Tune model families on the training split; every trial is a child run."""
    from mlflow_steward.workflow import clean_step, tune_step

    config = build_config(**options)
    if parent_run or join:
        from mlflow_steward.workflow._join import join_tune_step

        join_tune_step(config, parent_run or None, echo=click.echo)
        return
    if data_run:
        from mlflow_steward.workflow._preflight import check_data_run

        check_data_run(data_run, config)
    data_run = data_run or clean_step(config, echo=click.echo).run_id
    outcome = tune_step(config, data_run, echo=click.echo)
    click.echo(f"tune run: {outcome.run_id}")
