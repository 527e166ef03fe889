"""``steward data add|list|show|rollback``: named dataset versions. Parse, call the package, print."""

from __future__ import annotations

import json
import sys

import click

from mlflow_steward.exceptions import StewardInputError

ERR_BOTH_MODES = "--quarantine and --allow exclude each other (a failed check either keeps the batch aside or takes it)"


def _console():
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.group("data")
def data() -> None:
    """Named datasets: versions built batch by batch, a current version, rollback (all in MLflow)."""


@data.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--target", default=None, help="Target column (first batch of a new dataset).")
@click.option("--task", type=click.Choice(["regression", "classification"]), default=None,
              help="Task (first batch of a new dataset).")
@click.option("--categorical", default=None, help="Comma-separated categorical columns (default: auto-detect).")
@click.option("--missing-markers", default=None, help="Comma-separated strings meaning missing, e.g. '?'.")
@click.option("--id-column", default=None, help="Column identifying a record (default: the whole row).")
@click.option("--time-column", default=None)
@click.option("--test-share", type=float, default=None, help="Share of each batch that goes to the test set "
              "(fixed when the dataset is created; default 0.2).")
@click.option("--seed", type=int, default=None, help="Seed of the test assignment (fixed at creation; default 42).")
@click.option("--quarantine", is_flag=True, help="A failed check keeps the batch as a version that is not current.")
@click.option("--allow", is_flag=True, help="Take the batch even if a check fails (recorded on the version).")
@click.option("--ingest-config", default=None, help="JSON object or file: IngestConfig fields.")
@click.option("--reason", default=None, help="Why; written into the dataset's history.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def add(name, file, target, task, categorical, missing_markers, id_column, time_column, test_share, seed, quarantine,
        allow, ingest_config, reason, as_json) -> None:
    """Check FILE (a labelled batch) against dataset NAME and store it as its next version.

    Exit code 0: stored and current (accepted, or --allow); 3: a check failed and the batch was
    rejected (nothing stored) or quarantined (stored, not current); 2: bad input (unknown dataset,
    schema mismatch, missing or duplicated ids, empty file...), nothing written.
    """
    from mlflow_steward import retrain
    from mlflow_steward.cli._options import parse_json_option

    if quarantine and allow:
        raise StewardInputError(ERR_BOTH_MODES)
    spec = None
    if target or task:
        from mlflow_steward.data import DatasetSpec

        if not target or not task:
            raise StewardInputError(f"--target and --task go together, got --target {target!r} --task {task!r}")
        spec = DatasetSpec(target=target, task=task, categorical=_split(categorical),
                           missing_markers=_split(missing_markers) or (), id_column=id_column or None,
                           time_column=time_column or None)
    config = parse_json_option("--ingest-config", ingest_config)
    if quarantine or allow:
        config["on_failure"] = "quarantine" if quarantine else "allow"
    echo = (lambda _: None) if as_json else click.echo
    result = retrain.ingest(name, file, spec=spec, id_column=id_column or None, test_share=test_share, seed=seed,
                            config=config, reason=reason or "", echo=echo)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        click.echo(result.summary())
    sys.exit(result.exit_code)


@data.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
def list_(name, as_json) -> None:
    """Every named dataset, or the versions of dataset NAME."""
    from rich.table import Table

    from mlflow_steward import data as datasets

    if name is None:
        summaries = datasets.list_datasets()
        if as_json:
            click.echo(json.dumps([s.to_dict() for s in summaries], indent=2))
            return
        table = Table(title="datasets")
        for column in ("name", "current", "versions", "rows"):
            table.add_column(column)
        for s in summaries:
            table.add_row(s.name, "–" if s.current is None else f"v{s.current}", str(s.versions),
                          "–" if s.rows is None else f"{s.rows:,}")
        _console().print(table if summaries else "no datasets yet: steward data add NAME FILE --target ... --task ...")
        return
    info = datasets.dataset_info(name)
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2, default=str))
        return
    _print_versions(info)


def _print_versions(info) -> None:
    from rich.table import Table

    table = Table(title=f"dataset {info.name}: current = {'–' if info.current is None else f'v{info.current}'}")
    for column in ("version", "", "action", "verdict", "parent", "rows", "train", "test", "retired", "test gen.",
                   "gate decisions", "created"):
        table.add_column(column, overflow="fold")
    for v in info.versions:
        table.add_row(
            f"v{v.version}", "current" if v.version == info.current else "", v.action, v.verdict,
            "–" if v.parent is None else f"v{v.parent}", f"{v.n_rows:,}", f"{v.rows.get('train', 0):,}",
            f"{v.rows.get('test', 0):,}", f"{v.rows.get('retired', 0):,}", str(v.generation),
            f"{v.decisions} ({v.promotions} promoted)", v.created,
        )
    _console().print(table)


@data.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
def show(reference, as_json) -> None:
    """One version (NAME@VERSION, or NAME for the current one) and the dataset's history."""
    from rich.table import Table

    from mlflow_steward import data as datasets

    name, number = datasets.parse_reference(reference)
    info = datasets.dataset_info(name)
    record = info.version(number) if number is not None else datasets.get_version(name)
    if as_json:
        click.echo(json.dumps({"version": record.to_dict(), "current": info.current,
                               "history": [e.to_dict() for e in info.history]}, indent=2, default=str))
        return
    console = _console()
    state = "current" if record.version == info.current else "not current"
    console.print(f"[bold]{record.label}[/bold] ({state}): {record.action}, verdict {record.verdict}", highlight=False)
    facts = [
        ("rows", f"{record.n_rows:,} (train {record.rows.get('train', 0):,}, test {record.rows.get('test', 0):,}, "
                 f"retired {record.rows.get('retired', 0):,})"),
        ("digest", record.digest),
        ("parent", "–" if record.parent is None else f"v{record.parent}"),
        ("batch", f"{record.batch_rows:,} rows, digest {record.batch_digest[:16] or '–'}"),
        ("failed checks", ", ".join(record.checks) or "–"),
        ("test-set generation", f"{record.generation} ({record.decisions} gate decisions, {record.promotions} promotions)"),
        ("created", record.created),
        ("run", f"{record.run_id} (experiment {record.experiment_id})"),
        ("schema", ", ".join(f"{c}: {t}" for c, t in record.schema)),
    ]
    for key, value in facts:
        console.print(f"  {key}: {value}", highlight=False)
    history = Table(title="history of the current version")
    for column in ("#", "when", "action", "from", "to", "by", "why", "state"):
        history.add_column(column, overflow="fold")
    for e in reversed(info.history):
        history.add_row(str(e.seq), e.at, e.action, "–" if e.from_version is None else f"v{e.from_version}",
                        "–" if e.to_version is None else f"v{e.to_version}", e.by, e.reason, e.state)
    console.print(history)


@data.command("rollback")
@click.argument("name")
@click.option("--to", "to", required=True, help="The version to make current.")
@click.option("--reason", required=True, help="Why; written into the history (and the model's, with --with-model).")
@click.option("--with-model", "model", default=None,
              help="Also roll registered model MODEL's production back to its latest version trained on --to.")
def rollback(name, to, reason, model) -> None:
    """Make version --to of dataset NAME current again (nothing is deleted)."""
    from mlflow_steward import retrain

    result = retrain.rollback_dataset_and_model(name, to=to, reason=reason, model=model)
    for line in result.lines():
        click.echo(line)
