"""``steward drift NAME[@alias] --data FILE | --capture URI [--since --until --last N]``: parse, call, print.

Exit codes: 0 healthy, 3 drift, 2 bad input (one line, from the group's error handler).
"""

from __future__ import annotations

import math
import sys

import click

MAX_ROWS = 60  # longer tables show alarms and untested checks only (--all shows every check)


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}"


def print_result(result, *, show_all: bool = False) -> None:
    """The table (column, check, score [interval], threshold, p adjusted, verdict) and the verdict line."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    rows = list(result.checks)
    hidden = 0
    if not show_all and len(rows) > MAX_ROWS:
        shown = [o for o in rows if o.status != "ok"]
        hidden = len(rows) - len(shown)
        rows = shown
    table = Table(title="drift checks (training vs window)", title_justify="left")
    for name in ("column", "check", "score [interval]", "threshold", "p adj.", "verdict"):
        table.add_column(name, justify="right" if name in ("threshold", "p adj.") else "left")
    style = {"drift": "bold red", "ok": "green"}
    for o in rows:
        score = "" if o.score is None else f"{_number(o.score)} [{_number(o.low)}, {_number(o.high)}]"
        verdict = f"[{style.get(o.status, 'yellow')}]{o.status}[/]"
        if o.note and o.status not in ("ok",):
            verdict += f" ({o.note})"
        table.add_row(o.column, o.check, score, _number(o.threshold) if o.threshold is not None else "",
                      _number(o.p_adjusted), verdict)  # fmt: skip
    console.print(table)
    if hidden:
        console.print(f"{hidden} ok check(s) not shown (--all shows every check)")
    head = "[bold red]DRIFT[/]" if result.overall.drift else "[bold green]HEALTHY[/]"
    console.print(f"{head} {result.summary()}", highlight=False)


@click.command("drift")
@click.argument("model")
@click.option("--data", "data_path", default=None, help="CSV or Parquet batch to check (scored by the model too).")
@click.option("--capture", default=None, help="Capture store of a served model (SQLite file or sqlite:///path).")
@click.option("--since", default=None, help="Captured rows from this time on (ISO 8601; naive means UTC).")
@click.option("--until", default=None, help="Captured rows before this time (ISO 8601; naive means UTC).")
@click.option("--last", "last_n", type=int, default=None, help="Only the last N captured rows (of the window).")
@click.option("--config", "config_json", default=None, help="DriftConfig as JSON or a JSON file, e.g. '{\"level\": 0.01}'.")
@click.option("--experiment", default=None, help="Experiment of the run (default steward-monitoring/<model name>).")
@click.option("--no-predict", is_flag=True, help="Do not score a --data batch (no prediction drift).")
@click.option("--no-log", is_flag=True, help="Print only; log no MLflow run.")
@click.option("--all", "show_all", is_flag=True, help="Show every check, also on wide tables.")
def drift(model: str, data_path: str | None, capture: str | None, since: str | None, until: str | None,
          last_n: int | None, config_json: str | None, experiment: str | None, no_predict: bool, no_log: bool,
          show_all: bool) -> None:  # fmt: skip
    """Check MODEL's inputs and predictions for drift against its training data.

    MODEL is NAME (its production alias), NAME@ALIAS or NAME/VERSION. Exits 0 when healthy, 3 when
    something drifted, 2 on bad input.
    """
    from mlflow_steward.monitoring import DriftConfig, monitor_drift

    config = DriftConfig.from_json(config_json)
    outcome = monitor_drift(
        model, data=data_path, capture=capture, since=since, until=until, last_n=last_n, config=config,
        experiment=experiment, predict=not no_predict, log=not no_log, echo=click.echo,
    )  # fmt: skip
    print_result(outcome.result, show_all=show_all)
    if outcome.run_id:
        click.echo(f"logged to run {outcome.run_id} (experiment steward-monitoring/{outcome.model.name})"
                   if experiment is None else f"logged to run {outcome.run_id} (experiment {experiment})")  # fmt: skip
    sys.exit(outcome.result.overall.exit_code)
