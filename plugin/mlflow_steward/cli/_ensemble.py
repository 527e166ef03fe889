"""``steward ensemble --tune-run RUN_ID [--runs ID,ID | --best-n N | --per-family] --method M``.

Defaults come from :class:`~mlflow_steward.ensemble.EnsembleConfig`; the settings are checked
(:class:`EnsembleConfig`) before any run is read or started.
"""

from __future__ import annotations

import click

from mlflow_steward.cli._options import option

_ENSEMBLE = "mlflow_steward.ensemble._config:EnsembleConfig"
_BUILD = "mlflow_steward.ensemble._build:build_and_compare"


@click.command("ensemble")
@click.option("--tune-run", required=True, help="The tuning parent run (steward tune) the members come from.")
@click.option("--runs", default=None, help="Comma-separated trial run ids (members chosen by hand).")
@click.option("--best-n", type=int, default=None, help="The N best distinct trials of the tuning.")
@click.option("--per-family", is_flag=True, default=False, help="Each family's best trial (default selection).")
@option("--method", default_from=f"{_ENSEMBLE}.method", help="mean, weighted, stacking or greedy.")
@click.option("--register", default=None, help="Register the ensemble under this model name (alias staging).")
@click.option("--register-only-if-better", is_flag=True, default=False,
              help="Register only when it beats its best member on the test set.")
@click.option("--data-run", default=None, help="Clean run of the training data (default: the tune run's tag).")
@option("--n-iterations", type=int, default_from=f"{_ENSEMBLE}.n_iterations", help="Greedy selection steps.")
@option("--n-resamples", type=int, default_from=f"{_ENSEMBLE}.n_resamples", help="Test-set bootstrap resamples.")
@option("--seed", type=int, default_from=f"{_ENSEMBLE}.random_state", help="Bootstrap seed.")
@option("--reuse/--no-reuse", default_from=f"{_BUILD}.reuse", help="Reuse a finished identical ensemble run.")
def ensemble(
    tune_run: str,
    runs: str | None,
    best_n: int | None,
    per_family: bool,
    method: str | None,
    register: str | None,
    register_only_if_better: bool,
    data_run: str | None,
    n_iterations: int | None,
    n_resamples: int | None,
    seed: int | None,
    reuse: bool | None,
) -> None:
    """Build an ensemble of tuned models, compare it with its best member, log and maybe register it."""
    from mlflow_steward.ensemble import EnsembleConfig, build_and_compare

    given = {"method": method, "n_iterations": n_iterations, "n_resamples": n_resamples, "random_state": seed}
    config = EnsembleConfig(**{k: v for k, v in given.items() if v is not None})
    run_ids = [part.strip() for part in runs.split(",") if part.strip()] if runs else None
    outcome = build_and_compare(
        tune_run,
        method=config.method,
        runs=run_ids,
        best_n=best_n,
        per_family=per_family or None,
        register=register or None,
        register_only_if_better=register_only_if_better,
        data_run_id=data_run or None,
        n_iterations=config.n_iterations,
        n_resamples=config.n_resamples,
        confidence=config.confidence,
        random_state=config.random_state,
        **({} if reuse is None else {"reuse": reuse}),
        echo=click.echo,
    )
    click.echo(outcome.summary())
    click.echo(f"ensemble run: {outcome.run_id}")
    click.echo(f"model: {outcome.model_uri}")
    if outcome.model_version:
        click.echo(f"registered version: {outcome.model_version}")
