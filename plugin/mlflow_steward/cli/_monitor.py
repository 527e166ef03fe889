"""``steward monitor`` and ``steward review``: parse, call monitoring, print.

``steward monitor`` exits 0 healthy, 3 drift, 4 performance worse than the test values, 2 bad input
(one line, from the group's error handler).
"""

from __future__ import annotations

import sys

import click

from mlflow_steward.names import ENV_CAPTURE_PATH


def _print_window(check) -> None:
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    style = {"healthy": "bold green", "drift": "bold yellow", "performance": "bold red"}
    if check.skipped:
        console.print(f"window {check.window.describe()}: {check.skipped}")
        return
    head = f"[{style.get(check.state, 'bold')}]{check.state.upper()}[/]"
    console.print(f"window {check.window.describe()}: {head} ({check.rows:,} rows, {check.requests:,} requests)"
                  + (f"; run {check.run_id}" if check.run_id else ""))  # fmt: skip
    if check.drift is not None:
        console.print(f"  drift: {check.drift.summary()}")
    performance = check.performance
    if performance is not None:
        if performance.overall:
            console.print(f"  live performance ({performance.status}, {performance.n_labels:,} labelled rows):")
            for metric in performance.overall:
                mark = "[bold red]" if metric.alarm else ""
                console.print(f"    {mark}{metric.describe()}{'[/]' if mark else ''}")
        else:
            console.print(f"  {performance.summary()}")
        worse = performance.by_slice[performance.by_slice["worse_than_test"].astype(bool)] if len(performance.by_slice) else []
        if len(worse):
            grouped: dict[str, list[str]] = {}
            for r in worse.to_dict("records"):
                grouped.setdefault(f"{r['slice_column']}={r['slice_value']}", []).append(r["metric"])
            listed = "; ".join(f"{s} ({', '.join(m)})" for s, m in list(grouped.items())[:5])
            more = f" and {len(grouped) - 5} more" if len(grouped) > 5 else ""
            console.print(f"    slices worse than test: {listed}{more}")
    if check.estimate is not None:
        console.print(f"  {check.estimate.describe()}")


@click.command("monitor")
@click.argument("model")
@click.option("--capture", envvar=ENV_CAPTURE_PATH, required=True,
              help=f"Capture of the served model: SQLite file, parquet:<dir> or database URL (default ${ENV_CAPTURE_PATH}).")
@click.option("--window", "window", default=None, help="Window length: 1d, 6h, 30m, 1w... (default: a day).")
@click.option("--since", default=None, help="First window starts here (ISO 8601; naive means UTC). Default: --lookback windows back.")
@click.option("--until", default=None, help="Last window ends here (default: the last complete window before now).")
@click.option("--lookback", type=int, default=None, help="Windows to (re)check when --since is not given (default 7).")
@click.option("--labels", default=None, help="Labels: CSV/Parquet with request_id, label[, row], or a database URL with --labels-table.")
@click.option("--labels-table", default=None, help="Table of the --labels database holding request_id, label[, row].")
@click.option("--config", "config_json", default=None,
              help='MonitorConfig as JSON or a JSON file: {"drift": {...}, "performance": {...}, "alerts": {...}}.')
@click.option("--webhook", "webhooks", multiple=True, help="POST alerts here (repeatable); signed with $STEWARD_WEBHOOK_SECRET.")
@click.option("--pushgateway", default=None, help="Push the newest results to this Prometheus Pushgateway URL.")
@click.option("--experiment", default=None, help="Experiment of the runs (default steward-monitoring/<model name>).")
@click.option("--no-log", is_flag=True, help="Print only: no MLflow runs, no alerts.")
def monitor(model: str, capture: str, window: str | None, since: str | None, until: str | None, lookback: int | None,
            labels: str | None, labels_table: str | None, config_json: str | None, webhooks: tuple[str, ...],
            pushgateway: str | None, experiment: str | None, no_log: bool) -> None:  # fmt: skip
    """Check MODEL's captured inferences window by window: drift, and live performance once labels arrived.

    MODEL is NAME (its production alias), NAME@ALIAS or NAME/VERSION. One MLflow run per window; a
    window already checked (same captures, labels and settings) is skipped, so it is safe from cron.
    Exits 0 healthy, 3 drift, 4 performance worse than the version's test values, 2 bad input.
    """
    from mlflow_steward.monitoring import MonitorConfig, monitor_model

    config = MonitorConfig.from_json(config_json)
    given = {k: v for k, v in {"window": window, "lookback": lookback}.items() if v is not None}
    outcome = monitor_model(
        model, capture=capture, since=since, until=until, labels=labels, **given,
        labels_table=labels_table, config=config, webhooks=() if no_log else webhooks,
        pushgateway=pushgateway, experiment=experiment, log=not no_log, echo=click.echo,
    )  # fmt: skip
    for check in outcome.windows:
        _print_window(check)
    if outcome.labels_given:
        click.echo(f"labels: {outcome.labels_given:,} given, {outcome.labels_given - len(outcome.unmatched_labels):,} "
                   f"matched captured requests")  # fmt: skip
    for note in outcome.notes:
        click.echo(note)
    if outcome.alert is not None:
        for line in outcome.alert.lines():
            click.echo(line)
    if outcome.push:
        click.echo(outcome.push)
    if not no_log:
        click.echo(f"runs in experiment {outcome.experiment}")
    click.echo(f"state: {outcome.state} (exit {outcome.exit_code})")
    sys.exit(outcome.exit_code)


@click.command("review")
@click.argument("model")
@click.option("--capture", envvar=ENV_CAPTURE_PATH, required=True,
              help=f"Capture of the served model (default ${ENV_CAPTURE_PATH}).")
@click.option("--n", "n", type=int, default=None, help="Rows to send for review (default 200).")
@click.option("--since", default=None, help="Captured rows from this time on (ISO 8601; naive means UTC).")
@click.option("--until", default=None, help="Captured rows before this time.")
@click.option("--slice", "slice_column", default=None, help="Stratify by this input column (default: the first categorical one).")
@click.option("--no-stratify", is_flag=True, help="The least confident rows of the whole window, whatever their slice.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the tie-breaking shuffle.")
@click.option("--output", required=True, help="File to write: .csv, .csv.gz or .parquet (fill its label column).")
def review(model: str, capture: str, n: int | None, since: str | None, until: str | None, slice_column: str | None,
           no_stratify: bool, seed: int, output: str) -> None:  # fmt: skip
    """Export MODEL's least confident predictions of a window for people to label.

    Classifiers: smallest probability margin; regressors: widest spread across trees or ensemble
    members (else largest predicted error). Fill the label column and join it back with
    `steward capture label` or `steward monitor --labels`.
    """
    from mlflow_steward.monitoring import review_queue

    given = {"n": n} if n is not None else {}
    queue = review_queue(model, capture=capture, since=since, until=until, output=output,
                         slice_column=slice_column, stratify=not no_stratify, seed=seed, echo=click.echo, **given)  # fmt: skip
    click.echo(queue.summary())
