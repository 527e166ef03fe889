"""``steward retrain NAME``: parse arguments, call :func:`mlflow_steward.retrain.retrain`, print.

No option carries a default of its own: what is not given keeps :class:`RetrainConfig`'s default
(shown in ``--help``).
"""

from __future__ import annotations

import json
import sys

import click

from mlflow_steward.cli._options import evaluation_config, gate_config, option, parse_json_option
from mlflow_steward.tuning._config import DEFAULT_N_TRIALS

_RETRAIN = "mlflow_steward.retrain._config:RetrainConfig"


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.command("retrain")
@click.argument("name")
@click.option("--model-name", default=None, help="Registered model (default: the dataset's name).")
@click.option("--cleaning-config", default=None, help="JSON object or file: CleaningConfig fields (default: "
              "production's cleaning, else the defaults).")
@option("--strategy", type=click.Choice(["optuna", "grid"]), default_from=f"{_RETRAIN}.strategy")
@click.option("--families", default=None, help="Comma-separated model families (default: per task).")
@option("--n-trials", type=int, default_from=f"{_RETRAIN}.n_trials",
        help=f"Optuna trials (default: {DEFAULT_N_TRIALS}; grid: every point).")
@option("--cv", type=int, default_from=f"{_RETRAIN}.cv", help="Cross-validation folds.")
@option("--seed", type=int, default_from=f"{_RETRAIN}.random_state", help="Seeds folds, sampler and estimators.")
@click.option("--storage", default=None, help="Optuna storage URL (default: SQLite under .steward/).")
@option("--n-jobs", type=int, default_from=f"{_RETRAIN}.n_jobs", help="Trials in parallel threads.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Tuning worker processes.")
@click.option("--evaluation-config", "evaluation_config_", default=None, help="JSON object or file: EvaluationConfig fields.")
@click.option("--gate-config", "gate_config_", default=None, help="JSON object or file: GateConfig fields.")
@click.option("--ensemble-method", type=click.Choice(["greedy", "mean", "weighted", "stacking"]), default=None,
              help="Rebuild an ensemble of the tuned families (kept only if it beats the best one; default: none).")
@option("--warm-start/--no-warm-start", default_from=f"{_RETRAIN}.warm_start",
        help="Enqueue production's best parameters as the first trial.")
@option("--max-promotions", type=int, default_from=f"{_RETRAIN}.max_promotions",
        help="Promotions one test set may decide before the retrain refreshes it.")
@option("--refresh-min-rows", type=int, default_from=f"{_RETRAIN}.refresh_min_rows",
        help="Rows a refreshed test set needs.")
@option("--lock-wait", type=float, default_from=f"{_RETRAIN}.lock_wait",
        help="Seconds to wait for a retrain of the same dataset in progress.")
@option("--reuse/--no-reuse", default_from=f"{_RETRAIN}.reuse", help="Reuse finished identical steps.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def retrain(name, model_name, cleaning_config, strategy, families, n_trials, cv, seed, storage, n_jobs, workers,
            evaluation_config_, gate_config_, ensemble_method, warm_start, max_promotions, refresh_min_rows,
            lock_wait, reuse, as_json) -> None:
    """Retrain on the current version of dataset NAME, gate the challenger, promote it if it passes.

    Safe from cron: one retrain per dataset at a time, nothing new when neither the dataset
    version nor the code changed, and a crash leaves production and the dataset as they were.
    Exit code 0: promoted, or nothing to do; 1: the gate rejected the challenger (production
    unchanged); 2: bad input.
    """
    from mlflow_steward.retrain import RetrainConfig
    from mlflow_steward.retrain import retrain as run_retrain

    given = {
        "model_name": model_name, "strategy": strategy, "families": _split(families), "n_trials": n_trials,
        "cv": cv, "random_state": seed, "storage": storage, "n_jobs": n_jobs, "workers": workers,
        "ensemble": ensemble_method, "warm_start": warm_start, "max_promotions": max_promotions,
        "refresh_min_rows": refresh_min_rows, "lock_wait": lock_wait, "reuse": reuse,
    }
    cleaning = parse_json_option("--cleaning-config", cleaning_config)
    if cleaning:
        given["cleaning"] = cleaning
    if evaluation_config_ is not None:
        given["evaluation"] = evaluation_config("--evaluation-config", evaluation_config_)
    if gate_config_ is not None:
        given["gate"] = gate_config("--gate-config", gate_config_)
    config = RetrainConfig(dataset=name, **{k: v for k, v in given.items() if v is not None})
    echo = (lambda _: None) if as_json else click.echo
    outcome = run_retrain(config, echo=echo)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, default=str))
    else:
        click.echo(outcome.summary())
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}")
    sys.exit(outcome.exit_code)
