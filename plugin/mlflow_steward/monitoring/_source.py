"""Where a window comes from: a CSV/Parquet batch, or captured inferences of a served model.

Captures are read through serving's read side only, in :func:`read_captures_table` (the one place
to switch when more capture sinks arrive), then turned into features, predictions and probabilities.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError

FILE_NOT_FOUND = "data file {path} does not exist"
BAD_FILE_TYPE = "data file {path}: unsupported file type; use .csv, .csv.gz or .parquet"
UNREADABLE = "data file {path} could not be read: {error}"
EMPTY_CAPTURE = "no captured rows in {uri} for {window}{model}"
BAD_LAST_N = "--last must be a whole number >= 1, got {value!r}"
BATCH_ROWS = 100_000


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise StewardInputError(FILE_NOT_FOUND.format(path=path))
    name = path.name.lower()
    if not name.endswith((".csv", ".csv.gz", ".parquet", ".pq")):
        raise StewardInputError(BAD_FILE_TYPE.format(path=path))
    return path


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (``.csv``, ``.csv.gz``) or Parquet file as a DataFrame."""
    path = _existing(path)
    try:
        return pd.read_parquet(path) if _is_parquet(path) else pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise StewardInputError(UNREADABLE.format(path=path, error=exc)) from None


def table_columns(path: str | Path) -> list[str]:
    """The column names of a CSV or Parquet file (its header or schema only)."""
    path = _existing(path)
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            return [str(c) for c in pq.ParquetFile(path).schema_arrow.names]
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise StewardInputError(UNREADABLE.format(path=path, error=exc)) from None


def iter_table(path: str | Path, *, batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """A CSV or Parquet file in parts of about ``batch_rows`` rows (row labels continue across parts),
    so a large file is profiled without holding it in memory (profiles of parts merge exactly)."""
    path = _existing(path)
    start = 0
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            # pre_buffer=False: with it, pyarrow keeps every row group it has read cached until the file
            # is closed, so memory grew with the file (measured in benchmarks/batch.py)
            reader = pq.ParquetFile(path, pre_buffer=False)
            batches = (b.to_pandas() for b in reader.iter_batches(batch_size=batch_rows))
        else:
            batches = pd.read_csv(path, chunksize=batch_rows)
        for batch in batches:
            batch.index = pd.RangeIndex(start, start + len(batch))
            start += len(batch)
            yield batch
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise StewardInputError(UNREADABLE.format(path=path, error=exc)) from None


def parquet_rows(path: str | Path) -> int | None:
    """Rows of a Parquet file from its metadata (None for CSV)."""
    path = Path(path)
    if not _is_parquet(path):
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def read_captures_table(uri: str, *, since: Any = None, until: Any = None, last_n: int | None = None) -> pd.DataFrame:
    """Captured rows of a window, oldest first (one row per scored row: ts, model_name, prediction,
    probabilities JSON, then the model inputs), from any capture sink serving writes: a SQLite file
    (a path or ``sqlite:///path``), ``parquet:<dir>`` or a SQLAlchemy URL (PostgreSQL).
    """
    from mlflow_steward.serving import read_captures

    frame = read_captures(uri, since=since, until=until)
    if last_n is not None:
        frame = frame.iloc[-last_n:]
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class CaptureWindow:
    """Captured rows turned back into what the model saw and said."""

    features: pd.DataFrame
    predictions: np.ndarray | None
    probabilities: pd.DataFrame | None
    requests: int
    first: str | None
    last: str | None
    skipped_other_models: int


def _iso(moment: Any) -> str:
    """A capture timestamp as ISO 8601 text (``2026-11-30T21:04:44.507163+00:00``): sorts as time."""
    return pd.Timestamp(moment).isoformat()


def _probabilities(column: pd.Series) -> pd.DataFrame | None:
    present = column.dropna()
    if len(present) < len(column) or len(present) == 0:
        return None
    frame = pd.DataFrame([json.loads(text) for text in present])
    frame.index = column.index
    return frame


def captured_rows(uri: str, *, since: Any = None, until: Any = None, model_name: str | None = None) -> tuple[pd.DataFrame, int]:
    """The captured rows of ``since <= ts < until`` of ``model_name`` (rows that recorded another
    model's name are dropped) and how many were dropped; the frame of :func:`read_captures_table`."""
    frame = read_captures_table(uri, since=since, until=until)
    skipped = 0
    if model_name is not None and len(frame):
        other = frame["model_name"].notna() & (frame["model_name"] != model_name)
        skipped = int(other.sum())
        frame = frame.loc[~other]
    return frame.reset_index(drop=True), skipped


def window_of(frame: pd.DataFrame, skipped: int = 0) -> CaptureWindow:
    """Captured rows (not empty) as the features, predictions and probabilities the model saw and said."""
    from mlflow_steward.serving import expand_features

    predictions = frame["prediction"].to_numpy()
    if predictions.dtype == object:
        numeric = pd.to_numeric(frame["prediction"], errors="coerce")
        if numeric.notna().all():
            predictions = numeric.to_numpy(dtype="float64")
    return CaptureWindow(
        features=expand_features(frame), predictions=predictions, probabilities=_probabilities(frame["probabilities"]),
        requests=int(frame["request_id"].nunique()), first=_iso(frame["ts"].iloc[0]), last=_iso(frame["ts"].iloc[-1]),
        skipped_other_models=skipped,
    )  # fmt: skip


def capture_window(uri: str, *, since: Any = None, until: Any = None, last_n: int | None = None,
                   model_name: str | None = None) -> CaptureWindow:  # fmt: skip
    """The captured rows of a time window (``since <= ts < until``) and/or the last ``last_n`` rows,
    of ``model_name`` (rows that recorded another model's name are skipped and counted)."""
    if last_n is not None and (isinstance(last_n, bool) or not isinstance(last_n, int) or last_n < 1):
        raise StewardInputError(BAD_LAST_N.format(value=last_n))
    frame, skipped = captured_rows(uri, since=since, until=until, model_name=model_name)
    if last_n is not None:
        frame = frame.iloc[-last_n:].reset_index(drop=True)
    if len(frame) == 0:
        window = f"since={since or '-'} until={until or '-'}" + (f" last {last_n}" if last_n else "")
        model = f" of model {model_name!r} ({skipped} row(s) of other models)" if model_name else ""
        raise StewardInputError(EMPTY_CAPTURE.format(uri=uri, window=window, model=model))
    return window_of(frame, skipped)
