"""``steward capture export`` and ``steward capture label``: read back what served models captured.

Both work on every capture sink: a SQLite file, ``parquet:<directory>`` or a SQLAlchemy URL.
"""

from __future__ import annotations

import click

from mlflow_steward.names import ENV_CAPTURE_PATH

_PATH_OPTION = click.option(
    "--path",
    "--uri",
    "capture_path",
    envvar=ENV_CAPTURE_PATH,
    required=True,
    help=(
        "The capture the servers write: a SQLite file, parquet:<directory> or a database URL "
        f"(postgresql+psycopg2://...); default: ${ENV_CAPTURE_PATH}."
    ),
)


@click.group("capture")
def capture() -> None:
    """Inference capture of served models: export a time window, join labels that arrive later."""


@capture.command("export")
@_PATH_OPTION
@click.option("--since", default=None, help="Start of the window, inclusive (ISO 8601; naive means UTC).")
@click.option("--until", default=None, help="End of the window, exclusive (ISO 8601; naive means UTC).")
@click.option("--last", "last_n", type=int, default=None, help="Only the last N requests (of the window).")
@click.option("--output", required=True, help="File to write: .csv, .csv.gz or .parquet.")
def export(capture_path: str, since: str | None, until: str | None, last_n: int | None, output: str) -> None:
    """Write the captured rows of a window (with their labels, if joined) to CSV or Parquet."""
    from mlflow_steward.serving import export_captures

    count = export_captures(capture_path, output, since=since, until=until, last_n=last_n)
    click.echo(f"wrote {count} captured row(s) to {output}")


@capture.command("label")
@_PATH_OPTION
@click.option("--labels", "labels_file", required=True, help="CSV or Parquet with request_id, label and optionally row.")
def label(capture_path: str, labels_file: str) -> None:
    """Join labels to captured rows by request id (a label without row labels the whole request)."""
    from mlflow_steward.serving import join_labels, read_labels_file

    result = join_labels(capture_path, read_labels_file(labels_file))
    click.echo(result.summary())
