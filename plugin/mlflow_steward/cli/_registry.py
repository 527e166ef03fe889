"""``steward promote``, ``steward rollback``, ``steward status``: parse arguments, call the registry, print."""

from __future__ import annotations

import json
import sys

import click

from mlflow_steward.cli._options import option
from mlflow_steward.exceptions import StewardInputError

ERR_SPEC_OPTIONS = "--target and --task go together (a test set's spec needs both), got --target {target!r} --task {task!r}"
ERR_VERSION = "{what} must be a model version number (a positive integer), got {value!r}"
ERR_NAME = "NAME must be a registered model name, got {value!r}"
ERR_REASON = "--reason must say why (it is recorded in the history), got {value!r}"
_GATE = "mlflow_steward.registry._config:GateConfig"
EXIT_REJECTED = 1  # the gate said no (not an error: errors exit with 2)


def _console():
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _gate_config(gate_config: str | None, metric: str | None, margin: float | None):
    from mlflow_steward.cli._options import gate_config as parse

    return parse("--gate-config", gate_config, metric=metric, margin=margin)


def _name(value: str) -> str:
    if not value.strip():
        raise StewardInputError(ERR_NAME.format(value=value))
    return value


def _version(value: str | None, what: str) -> str | None:
    if value is not None and not (value.strip().isdigit() and int(value) > 0):
        raise StewardInputError(ERR_VERSION.format(what=what, value=value))
    return None if value is None else value.strip()


def _spec_json(target: str | None, task: str | None) -> str | None:
    if target is None and task is None:
        return None
    if not target or not task:
        raise StewardInputError(ERR_SPEC_OPTIONS.format(target=target, task=task))
    from mlflow_steward.data import DatasetSpec

    return DatasetSpec(target=target, task=task).to_json()


def print_decision(decision) -> None:
    """The gate's verdict, checks and table (overall first, worst slices next)."""
    from rich.table import Table

    from mlflow_steward.registry._format import fmt, fmt_interval, fmt_p

    console = _console()
    style = {"passed": "bold green", "rejected": "bold red", "forced": "bold yellow"}[decision.verdict]
    moved = "production moved to" if decision.promoted else "production unchanged, not"
    console.print(
        f"[{style}]{decision.verdict.upper()}[/{style}] {decision.model_name} version {decision.version} "
        f"({moved} version {decision.version})"
    )
    for check in decision.checks:
        mark = "[green]✓[/green]" if check.passed else "[red]✗[/red]"
        console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)
    if not decision.rows:
        return
    table = Table(title=f"{decision.metric}: challenger vs champion", show_lines=False)
    for column in ("slice", "n", "champion", "challenger", "difference [CI]", "p", "p adj.", "verdict"):
        table.add_column(column, overflow="fold")
    rows = sorted(decision.rows, key=lambda r: (r.column != "overall", r.verdict != "worse", r.p_adjusted or 1.0))
    for r in rows[:40]:
        diff = "–" if r.difference is None else fmt_interval(r.difference.estimate, r.difference.low, r.difference.high)
        label = "overall" if r.column == "overall" else f"{r.column}={r.value}"
        verdict = f"[red]{r.verdict}[/red]" if r.verdict == "worse" else r.verdict
        table.add_row(label, f"{r.n:,}", fmt(r.champion), fmt(r.challenger), diff,
                      fmt_p(r.p_value), fmt_p(r.p_adjusted), verdict)
    console.print(table)
    if len(rows) > 40:
        console.print(f"... {len(rows) - 40} more rows in gate/decision.json of run {decision.gate_run_id}")


@click.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--data", default=None, help="CSV or Parquet test set (default: the one recorded on the version).")
@click.option("--target", default=None, help="Target column, for --data with a version that has no recorded spec.")
@click.option("--task", type=click.Choice(["regression", "classification"]), default=None)
@click.option("--gate-config", default=None, help="JSON object or file: GateConfig fields.")
@click.option("--metric", default=None, help="Compared metric (default: rmse / roc_auc).")
@option("--margin", type=float, default_from=f"{_GATE}.margin",
        help="Tolerated worsening (relative to the champion's metric unless the gate config says otherwise).")
@click.option("--force", is_flag=True, help="Promote whatever the gate says; recorded as forced.")
@click.option("--reason", default=None, help="Why; written into the history and the description.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def promote(name, version, data, target, task, gate_config, metric, margin, force, reason, as_json) -> None:
    """Gate VERSION of registered model NAME against production; promote it if it passes.

    Exit code 0 when production moved, 1 when the gate rejected the version, 2 on errors.
    """
    from mlflow_steward import registry

    name, version = _name(name), _version(version, "VERSION")
    config = _gate_config(gate_config, metric, margin)
    decision = registry.promote(
        name, version, data=data, spec=_spec_json(target, task), config=config, force=force,
        **({} if reason is None else {"reason": reason}),
    )
    if as_json:
        click.echo(json.dumps(decision.to_dict(), indent=2))
    else:
        print_decision(decision)
    if not decision.promoted:
        sys.exit(EXIT_REJECTED)


@click.command("rollback")
@click.argument("name")
@click.option("--to", "to", default=None, help="Version to return to (default: the previous production version).")
@click.option("--reason", required=True, help="Why; written into the history.")
def rollback(name, to, reason) -> None:
    """Move the production alias of NAME back to the previous (or an earlier) version."""
    from mlflow_steward import registry

    name, to = _name(name), _version(to, "--to")
    if not reason.strip():
        raise StewardInputError(ERR_REASON.format(value=reason))
    result = registry.rollback(name, to=to, reason=reason)
    click.echo(
        f"rolled back {result.model_name}: production version {result.from_version} -> "
        f"{result.to_version} (history entry #{result.entry.seq}, run {result.run_id})"
    )


@click.command("status")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def status(name, as_json) -> None:
    """Versions, aliases, gate verdicts, key metrics and the production history of NAME."""
    from mlflow_steward import registry

    report = registry.status(_name(name))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    print_status(report)


def print_status(report) -> None:
    from rich.table import Table

    console = _console()
    console.print(
        f"[bold]{report.name}[/bold]: production = {_v(report.production)}, staging = {_v(report.staging)}",
        highlight=False,
    )
    metrics = sorted({m for v in report.versions for m in v.metrics})[:6]
    versions = Table(title="versions")
    for column in ("version", "aliases", "stage", "gate", *metrics, "created"):
        versions.add_column(column, overflow="fold")
    for v in report.versions:
        versions.add_row(v.version, ", ".join(v.aliases), v.stage, v.gate,
                         *(v.metrics.get(m, "") for m in metrics), v.created)
    console.print(versions)
    if report.history:
        history = Table(title="production history")
        for column in ("#", "when", "action", "from", "to", "by", "why"):
            history.add_column(column, overflow="fold")
        for e in reversed(report.history):
            history.add_row(str(e.seq), e.at, e.action, e.from_version or "–", e.to_version, e.by, e.reason)
        console.print(history)
    else:
        console.print("no production history yet")
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def _v(version: str | None) -> str:
    return "–" if version is None else f"version {version}"
