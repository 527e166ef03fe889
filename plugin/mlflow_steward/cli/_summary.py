"""The closing summary of ``steward run``: test metrics with intervals, model version, next steps."""

from __future__ import annotations

from typing import Any

import click

from mlflow_steward import names
from mlflow_steward._format import fmt


def _interval(metrics: dict[str, float], name: str) -> str | None:
    if name not in metrics:
        return None
    low, high = metrics.get(names.ci_low(name)), metrics.get(names.ci_high(name))
    text = fmt(metrics[name])
    if low is not None and high is not None:
        text += f"  (95% CI {fmt(low)} – {fmt(high)}, bootstrap)"
    t_low, t_high = metrics.get(f"{name}_t_ci_low"), metrics.get(f"{name}_t_ci_high")
    if t_low is not None and t_high is not None:
        text += f"  (t-interval {fmt(t_low)} – {fmt(t_high)})"
    return text


def print_summary(outcome: Any, config: Any, *, tracking_uri: str) -> None:
    """Print what the job produced and how to look at it in the MLflow UI."""
    metrics = outcome.train.metrics
    click.echo("")
    click.echo("== mlflow-steward: main job finished ==")
    for name in ("rmse", "mae", "r2", "roc_auc", "accuracy", "f1"):
        text = _interval(metrics, name)
        if text:
            click.echo(f"test {name.upper():8s} {text}")
    if outcome.ensemble is not None:
        click.echo(f"ensemble: {outcome.ensemble.summary()}")
    if outcome.candidate_version:
        click.echo(f"model: {config.model_name} version {outcome.candidate_version}")
    if outcome.gate is not None:
        where = "now in production" if outcome.gate.passed else "not promoted (see its description)"
        click.echo(f"gate: {outcome.gate.verdict}; version {outcome.candidate_version} {where}")
    click.echo(f"runs: main {outcome.main_run_id} · clean {outcome.data_run_id} · "
               f"tune {outcome.tune_run_id} · train {outcome.train.run_id}")
    click.echo("")
    click.echo(f"Open the MLflow UI:  mlflow ui --backend-store-uri {tracking_uri}")
