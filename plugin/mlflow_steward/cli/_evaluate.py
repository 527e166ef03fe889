"""``steward evaluate MODEL_URI --data PATH --target COL --task regression``: parse and delegate."""

from __future__ import annotations

import json
from typing import Any

import click

from mlflow_steward.exceptions import StewardInputError

ERR_SETTING = "option --set: expected KEY=VALUE, got {item!r}"


def _setting_value(text: str) -> Any:
    """JSON when it parses (numbers, true/false, null, lists, objects), else the plain text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@click.argument("model_uri")
@click.option("--data", "data_path", required=True, help="CSV or Parquet file with features and target.")
@click.option("--target", required=True, help="Target column.")
@click.option(
    "--task",
    "--model-type",
    "task",
    required=True,
    type=click.Choice(["regression", "classification", "regressor", "classifier"]),
    help="regression|classification (MLflow's regressor|classifier accepted).",
)
@click.option("--config", "config_json", default=None, help="JSON object or file with EvaluationConfig fields.")
@click.option(
    "--set",
    "-c",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="One EvaluationConfig field, VALUE as JSON or plain text (repeatable), e.g. -c n_resamples=500.",
)
@click.option("--run-id", default=None, help="Log into this existing run.")
@click.option("--experiment", default=None, help="Experiment of the new run (created if needed).")
@click.option("--missing-markers", default=None, help="Comma-separated strings meaning missing, e.g. '?'.")
def _evaluate(
    model_uri: str,
    data_path: str,
    target: str,
    task: str,
    config_json: str | None,
    settings: tuple[str, ...],
    run_id: str | None,
    experiment: str | None,
    missing_markers: str | None,
) -> None:
    """Evaluate MODEL_URI on a data file: metrics with confidence intervals, slices, error
    analysis and plots, logged to an MLflow run."""
    from mlflow_steward.evaluation import evaluate_uri

    config = _config(config_json, settings)
    markers = tuple(m.strip() for m in (missing_markers or "").split(",") if m.strip())
    report, logged_run = evaluate_uri(
        model_uri, data_path, target=target, task=task, config=config,
        run_id=run_id, experiment=experiment, missing_markers=markers,
    )
    click.echo(report.summary())
    click.echo(f"logged to run {logged_run}")


def _config(config_json: str | None, settings: tuple[str, ...]):
    """``--config`` then each ``--set KEY=VALUE`` as one EvaluationConfig; errors name the option."""
    import dataclasses

    from mlflow_steward.cli._options import parse_json_option
    from mlflow_steward.evaluation import EvaluationConfig
    from mlflow_steward.exceptions import unknown_key_error

    values = parse_json_option("--config", config_json)
    EvaluationConfig.from_dict(values, source="--config")
    known = [f.name for f in dataclasses.fields(EvaluationConfig)]
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StewardInputError(ERR_SETTING.format(item=item))
        if key.strip() not in known:
            raise unknown_key_error(key.strip(), known, where="--set")
        values[key.strip()] = _setting_value(value.strip())
    return EvaluationConfig.from_dict(values, source="--config")


command = click.command("evaluate")(_evaluate)
