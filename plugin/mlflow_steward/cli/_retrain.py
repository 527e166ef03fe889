"""``steward retrain NAME``: parse arguments, call :func:`mlflow_steward.retrain.retrain`, print."""

from __future__ import annotations

import json
import sys

import click


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.command("retrain")
@click.argument("name")
@click.option("--model-name", default=None, help="Registered model (default: the dataset's name).")
@click.option("--cleaning-config", default=None, help="JSON object or file: CleaningConfig fields (default: "
              "production's cleaning, else the defaults).")
@click.option("--strategy", type=click.Choice(["optuna", "grid"]), default="optuna", show_default=True)
@click.option("--families", default=None, help="Comma-separated model families (default: per task).")
@click.option("--n-trials", type=int, default=24, show_default=True)
@click.option("--cv", type=int, default=3, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--storage", default=None, help="Optuna storage URL (default: SQLite under .steward/).")
@click.option("--n-jobs", type=int, default=1, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--evaluation-config", default=None, help="JSON object or file for the steward evaluator.")
@click.option("--gate-config", default=None, help="JSON object or file: GateConfig fields.")
@click.option("--ensemble-method", type=click.Choice(["none", "greedy", "mean", "weighted", "stacking"]),
              default="none", show_default=True, help="Rebuild an ensemble of the tuned families (kept if it beats "
              "the best one).")
@click.option("--warm-start/--no-warm-start", default=True, show_default=True,
              help="Enqueue production's parameters as the first trial.")
@click.option("--max-promotions", type=int, default=3, show_default=True,
              help="Promotions one test set may decide before the retrain refreshes it.")
@click.option("--refresh-min-rows", type=int, default=200, show_default=True)
@click.option("--lock-wait", type=float, default=3600.0, show_default=True,
              help="Seconds to wait for a retrain of the same dataset in progress.")
@click.option("--reuse/--no-reuse", default=True, show_default=True, help="Reuse finished identical steps.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def retrain(name, model_name, cleaning_config, strategy, families, n_trials, cv, seed, storage, n_jobs, workers,
            evaluation_config, gate_config, ensemble_method, warm_start, max_promotions, refresh_min_rows, lock_wait,
            reuse, as_json) -> None:
    """Retrain on the current version of dataset NAME, gate the challenger, promote it if it passes.

    Safe from cron: one at a time per dataset, nothing new when neither the dataset version nor
    the code changed, and a crash leaves production and the dataset as they were. Exit code 0:
    promoted, or nothing to do; 1: the gate rejected the challenger (production unchanged);
    2: bad input.
    """
    from mlflow_steward.cli._options import parse_json_option
    from mlflow_steward.retrain import RetrainConfig
    from mlflow_steward.retrain import retrain as run_retrain

    config = RetrainConfig(
        dataset=name, model_name=model_name or None,
        cleaning=parse_json_option("--cleaning-config", cleaning_config) or None,
        strategy=strategy, families=_split(families), n_trials=n_trials, cv=cv, random_state=seed,
        storage=storage or None, n_jobs=n_jobs, workers=workers or None,
        evaluation=parse_json_option("--evaluation-config", evaluation_config),
        gate=parse_json_option("--gate-config", gate_config),
        ensemble=None if ensemble_method == "none" else ensemble_method, warm_start=warm_start,
        max_promotions=max_promotions, refresh_min_rows=refresh_min_rows, lock_wait=lock_wait, reuse=reuse,
    )
    echo = (lambda _: None) if as_json else click.echo
    outcome = run_retrain(config, echo=echo)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, default=str))
    else:
        click.echo(outcome.summary())
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}")
    sys.exit(outcome.exit_code)
