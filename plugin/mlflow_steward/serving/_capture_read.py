"""Read what the capture recorded, from any sink: a window, an export file, labels joined later.

:func:`read_captures` is the one reader monitoring and the CLI use, whatever the sink (a SQLite
file, a Parquet directory, a SQL database). It returns one row per scored row with the columns of
:data:`~mlflow_steward.serving.CAPTURE_COLUMNS`, then one column per model input column.

Labels arrive later than predictions. :func:`join_labels` stores them beside the captures, keyed by
``(request_id, row)``; a label given without ``row`` applies to every row of its request, and a
label applies to every attempt of a reused request id. Only labels whose request (and row) was
captured are stored; the others are reported back as unmatched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import CAPTURE_COLUMNS, FEATURE_PREFIX, utc_timestamp
from mlflow_steward.serving._sink_sqlite import CAPTURE_NOT_FOUND, NOT_A_CAPTURE  # noqa: F401  (re-exported)
from mlflow_steward.serving._sinks import parse_capture_uri, sink_class

BAD_TIME = "{name}: cannot read {value!r} as a date/time; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z"
EMPTY_WINDOW = "{name}: the window is empty ({since} is not before {until})"
BAD_LAST_N = "last_n must be a whole number >= 1, got {value!r}"
BAD_OUTPUT = "output {path}: unsupported file type; use .csv, .csv.gz or .parquet"
LABELS_NOT_FOUND = "labels file {path} does not exist"
BAD_LABELS_FILE = "labels file {path}: unsupported file type; use .csv, .csv.gz or .parquet"
LABELS_MISSING_COLUMNS = "labels are missing column(s) {missing}; expected request_id, label and optionally row"
LABELS_BAD_ROW = "labels column 'row' must hold whole numbers >= 0 (or be empty for a whole request), got {value!r}"

_META = [c for c in CAPTURE_COLUMNS]


@dataclass(frozen=True)
class LabelJoin:
    """What :func:`join_labels` did."""

    labels: int  # label rows given
    labelled_rows: int  # captured rows that now carry a label
    unmatched_requests: tuple[str, ...]  # request ids (or request/row pairs) with no captured row

    def summary(self) -> str:
        text = f"{self.labelled_rows} captured row(s) labelled from {self.labels} label(s)"
        if self.unmatched_requests:
            shown = ", ".join(self.unmatched_requests[:5])
            more = "" if len(self.unmatched_requests) <= 5 else f" and {len(self.unmatched_requests) - 5} more"
            text += f"; {len(self.unmatched_requests)} not captured: {shown}{more}"
        return text


def parse_time(value: Any, name: str) -> str | None:
    """A user's date/time (naive means UTC) as the fixed-width UTC text stored in ``ts``."""
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise StewardInputError(BAD_TIME.format(name=name, value=value)) from exc
    if stamp is pd.NaT:
        raise StewardInputError(BAD_TIME.format(name=name, value=value))
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return utc_timestamp(stamp.to_pydatetime())


def _last_n(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StewardInputError(BAD_LAST_N.format(value=value))
    return value


def _features(lines: pd.Series) -> pd.DataFrame:
    """The ``features`` JSON text as columns; ``json.loads`` reads back the exact floats."""
    frame = pd.DataFrame.from_records([json.loads(line) for line in lines], index=lines.index)
    return frame.rename(columns={c: f"{FEATURE_PREFIX}{c}" for c in frame.columns if c in _META})


def _shape(raw: pd.DataFrame) -> pd.DataFrame:
    """A sink's raw rows -> the documented column set, features expanded, times as UTC timestamps."""
    if len(raw) == 0:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in _META})
        frame["attempt"] = frame["row"] = pd.Series(dtype="int64")
        frame["ts"] = frame["labelled_at"] = pd.Series(dtype="datetime64[us, UTC]")
        return frame
    raw = raw.reset_index(drop=True)
    meta = raw[_META].copy()
    meta["attempt"] = meta["attempt"].astype("int64")
    meta["row"] = meta["row"].astype("int64")
    meta["ts"] = pd.to_datetime(meta["ts"], utc=True, format="ISO8601")
    meta["labelled_at"] = pd.to_datetime(meta["labelled_at"], utc=True, format="ISO8601")
    prediction = pd.Series(meta["prediction"].tolist(), index=meta.index)
    meta["prediction"] = prediction.infer_objects() if prediction.map(type).nunique() == 1 else prediction
    return pd.concat([meta, _features(raw["features"])], axis=1)


def read_captures(
    uri: str | Path, *, since: Any = None, until: Any = None, last_n: int | None = None
) -> pd.DataFrame:
    """Captured rows of any sink, one per scored row, oldest first.

    ``since <= ts < until`` (either may be None; ISO 8601 text, a date, a datetime; naive means
    UTC); ``last_n``: only the last N requests (of the window). Columns, in order: ``request_id``,
    ``attempt`` (0, or 1, 2, ... for a reused request id), ``row`` (position in the request),
    ``ts`` (UTC timestamp), ``status`` (``answered`` or ``timed_out``), ``model_name``,
    ``model_version``, ``model_id``, ``run_id``, ``prediction``, ``probabilities`` (JSON text
    ``{"class": p}`` for classifiers, else None), ``label``, ``labelled_at`` (None until joined),
    then one column per model input, as the model saw it (a name clashing with the above gets the
    prefix ``feature:``).
    """
    low, high = parse_time(since, "since"), parse_time(until, "until")
    if low is not None and high is not None and low >= high:
        raise StewardInputError(EMPTY_WINDOW.format(name="since/until", since=since, until=until))
    location = parse_capture_uri(uri)
    raw = sink_class(location).read(location.target, low, high, _last_n(last_n))
    return _shape(raw)


def expand_features(captures: pd.DataFrame) -> pd.DataFrame:
    """The model input columns of captured rows (same index as ``captures``)."""
    if "features" in captures.columns and "features" not in _META:  # an export of the previous release
        return _features(captures["features"]) if len(captures) else pd.DataFrame(index=captures.index)
    return captures[[c for c in captures.columns if c not in _META]]


def _output_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise StewardInputError(BAD_OUTPUT.format(path=path))


def export_captures(
    uri: str | Path, output: str | Path, *, since: Any = None, until: Any = None, last_n: int | None = None
) -> int:
    """Write the captures of a window (see :func:`read_captures`) to CSV or Parquet; return the row count."""
    output = Path(output)
    kind = _output_kind(output)
    frame = read_captures(uri, since=since, until=until, last_n=last_n)
    output.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(output, index=False)
    else:
        for column in frame.columns:  # values of mixed types (labels, predictions): Parquet needs one
            if frame[column].dtype == object and frame[column].dropna().map(type).nunique() > 1:
                frame[column] = frame[column].map(lambda v: None if v is None else json.dumps(v))
        frame.to_parquet(output, index=False)
    return len(frame)


def read_labels_file(path: str | Path) -> pd.DataFrame:
    """Labels from a CSV or Parquet file (request ids read as text)."""
    path = Path(path)
    if not path.is_file():
        raise StewardInputError(LABELS_NOT_FOUND.format(path=path))
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, dtype={"request_id": str})
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    raise StewardInputError(BAD_LABELS_FILE.format(path=path))


def _label_rows(labels: pd.DataFrame) -> list[tuple[str, int | None, Any]]:
    missing = [c for c in ("request_id", "label") if c not in labels.columns]
    if missing:
        raise StewardInputError(LABELS_MISSING_COLUMNS.format(missing=", ".join(repr(c) for c in missing)))
    if "row" in labels.columns:
        rows = []
        for value in labels["row"].tolist():
            if value is None or (isinstance(value, float) and value != value):
                rows.append(None)
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = float("nan")
            if not number.is_integer() or number < 0:
                raise StewardInputError(LABELS_BAD_ROW.format(value=value))
            rows.append(int(number))
    else:
        rows = [None] * len(labels)
    values = [v.item() if hasattr(v, "item") else v for v in labels["label"].astype(object).tolist()]
    values = [None if v is None or (isinstance(v, float) and v != v) else v for v in values]
    ids = labels["request_id"].astype(str).tolist()
    return list(zip(ids, rows, values))


def join_labels(capture_uri: str | Path, labels: pd.DataFrame) -> LabelJoin:
    """Store ``labels`` (columns request_id, label and optionally row) beside the captured rows."""
    incoming = _label_rows(labels)
    location = parse_capture_uri(capture_uri)
    labelled, unmatched = sink_class(location).join_labels(location.target, incoming, utc_timestamp())
    return LabelJoin(labels=len(incoming), labelled_rows=int(labelled), unmatched_requests=tuple(unmatched))
