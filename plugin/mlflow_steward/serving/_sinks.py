"""Capture URIs: which sink a ``STEWARD_CAPTURE_PATH`` / ``capture_path`` value names.

* a plain path (``captures.db``) or ``sqlite:///captures.db``: one SQLite file (one machine);
* ``parquet:/mnt/shared/captures`` (or ``parquet:///mnt/...``): a directory of Parquet files on
  storage that every server mounts (many machines, no database);
* any other SQLAlchemy URL, e.g. ``postgresql+psycopg2://user:pw@db:5432/captures``: a database that
  every server reaches (many machines).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlflow_steward.exceptions import StewardInputError

SQLITE, PARQUET, SQL = "sqlite", "parquet", "sql"
PARQUET_PREFIX = "parquet:"
EMPTY_URI = "capture URI is empty; give a SQLite file, parquet:<directory> or a SQLAlchemy URL"


@dataclass(frozen=True)
class CaptureLocation:
    """A parsed capture URI: its kind and the path (SQLite, Parquet) or URL (SQL)."""

    kind: str
    target: str

    @property
    def name(self) -> str:
        if self.kind == SQL:
            from mlflow_steward.serving._sink_sql import safe_name

            return safe_name(self.target)
        return f"{PARQUET_PREFIX}{self.target}" if self.kind == PARQUET else self.target


def parse_capture_uri(uri: str | Path) -> CaptureLocation:
    """The sink a capture URI names (see the module docstring)."""
    text = str(uri).strip()
    if not text:
        raise StewardInputError(EMPTY_URI)
    if text.startswith(PARQUET_PREFIX):
        path = text[len(PARQUET_PREFIX) :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise StewardInputError(EMPTY_URI)
        return CaptureLocation(PARQUET, path)
    if text.startswith("sqlite:"):
        from sqlalchemy.engine import make_url

        database = make_url(text).database
        if not database:
            raise StewardInputError(EMPTY_URI)
        return CaptureLocation(SQLITE, database)
    if "://" in text:
        return CaptureLocation(SQL, text)
    return CaptureLocation(SQLITE, text)


def open_sink(uri: str | Path, *, batch_wait_s: float | None = None):
    """A writer for the capture URI (the connection or directory is made on first write)."""
    location = parse_capture_uri(uri)
    if location.kind == PARQUET:
        from mlflow_steward.serving._sink_parquet import DEFAULT_BATCH_WAIT_S, ParquetSink

        return ParquetSink(location.target, batch_wait_s=DEFAULT_BATCH_WAIT_S if batch_wait_s is None else batch_wait_s)
    if location.kind == SQL:
        from mlflow_steward.serving._sink_sql import SQLSink

        return SQLSink(location.target)
    from mlflow_steward.serving._sink_sqlite import SQLiteSink

    return SQLiteSink(location.target)


def sink_class(location: CaptureLocation):
    """The class whose ``read``/``join_labels`` serve this location."""
    if location.kind == PARQUET:
        from mlflow_steward.serving._sink_parquet import ParquetSink

        return ParquetSink
    if location.kind == SQL:
        from mlflow_steward.serving._sink_sql import SQLSink

        return SQLSink
    from mlflow_steward.serving._sink_sqlite import SQLiteSink

    return SQLiteSink
