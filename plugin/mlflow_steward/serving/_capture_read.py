"""Read what the capture recorded: a time window, an export file, and labels joined by request id.

Labels arrive later than predictions. :func:`join_labels` stores them beside the captures, keyed by
``(request_id, row)``; a label given without ``row`` applies to every row of its request. Only labels
whose request (and row) was captured are stored; the others are reported back as unmatched.
:func:`read_captures` returns the captures of a window with their label (if any), which is what
monitoring reads.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import CAPTURE_COLUMNS, ROW_COLUMNS, connect, utc_timestamp

CAPTURE_NOT_FOUND = "capture database {path} does not exist (set STEWARD_CAPTURE_PATH on the server to create it)"
NOT_A_CAPTURE = "{path} is not a capture database: {error}"
BAD_TIME = "{name}: cannot read {value!r} as a date/time; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z"
EMPTY_WINDOW = "{name}: the window is empty ({since} is not before {until})"
BAD_OUTPUT = "output {path}: unsupported file type; use .csv, .csv.gz or .parquet"
LABELS_NOT_FOUND = "labels file {path} does not exist"
BAD_LABELS_FILE = "labels file {path}: unsupported file type; use .csv, .csv.gz or .parquet"
LABELS_MISSING_COLUMNS = "labels are missing column(s) {missing}; expected request_id, label and optionally row"
LABELS_BAD_ROW = "labels column 'row' must hold whole numbers >= 0 (or be empty for a whole request), got {value!r}"

# requests r (request-level values) joined with captures c (row-level values)
_COLUMNS = ", ".join(f"{'c' if c in ROW_COLUMNS else 'r'}.{c}" for c in CAPTURE_COLUMNS)


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


def _open_existing(path: str | Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise StewardInputError(CAPTURE_NOT_FOUND.format(path=path))
    try:
        conn = connect(path, create=False)
        conn.execute("SELECT 1 FROM captures LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise StewardInputError(NOT_A_CAPTURE.format(path=path, error=exc)) from exc
    return conn


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


def read_captures(path: str | Path, *, since: Any = None, until: Any = None) -> pd.DataFrame:
    """Captured rows with ``since <= ts < until`` (either may be None), with ``label`` and ``labelled_at``.

    Ordered by time, request id and row.
    """
    low, high = parse_time(since, "since"), parse_time(until, "until")
    if low is not None and high is not None and low >= high:
        raise StewardInputError(EMPTY_WINDOW.format(name="since/until", since=since, until=until))
    where, args = [], []
    if low is not None:
        where.append("r.ts >= ?")
        args.append(low)
    if high is not None:
        where.append("r.ts < ?")
        args.append(high)
    query = (
        f"SELECT {_COLUMNS}, l.label AS label, l.labelled_at AS labelled_at FROM requests r "
        "JOIN captures c ON c.request_id = r.request_id "
        "LEFT JOIN labels l ON l.request_id = c.request_id AND l.row = c.row"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY r.ts, r.request_id, c.row"
    )
    conn = _open_existing(path)
    try:
        cursor = conn.execute(query, args)
        names = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names)
    finally:
        conn.close()


def expand_features(captures: pd.DataFrame) -> pd.DataFrame:
    """The ``features`` JSON of captured rows as columns (same index as ``captures``)."""
    if len(captures) == 0:
        return pd.DataFrame(index=captures.index)
    frame = pd.read_json(StringIO("\n".join(captures["features"])), lines=True, dtype=False)
    frame.index = captures.index
    return frame


def _output_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise StewardInputError(BAD_OUTPUT.format(path=path))


def export_captures(path: str | Path, output: str | Path, *, since: Any = None, until: Any = None) -> int:
    """Write the captures of a window (see :func:`read_captures`) to CSV or Parquet; return the row count."""
    output = Path(output)
    kind = _output_kind(output)
    frame = read_captures(path, since=since, until=until)
    output.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(output, index=False)
    else:
        for column in ("prediction", "label"):  # SQLite values may mix types; Parquet needs one
            if frame[column].map(type).nunique() > 1:
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
    values = labels["label"].astype(object).where(labels["label"].notna(), None).tolist()
    ids = labels["request_id"].astype(str).tolist()
    return list(zip(ids, rows, values))


def join_labels(capture_path: str | Path, labels: pd.DataFrame) -> LabelJoin:
    """Store ``labels`` (columns request_id, label and optionally row) beside the captured rows."""
    incoming = _label_rows(labels)
    conn = _open_existing(capture_path)
    now = utc_timestamp()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TEMP TABLE incoming (request_id TEXT, row INTEGER, label)")
            conn.executemany("INSERT INTO incoming VALUES (?, ?, ?)", incoming)
            conn.execute(
                "INSERT OR REPLACE INTO labels (request_id, row, label, labelled_at) "
                "SELECT c.request_id, c.row, i.label, ? FROM incoming i JOIN captures c "
                "ON c.request_id = i.request_id AND (i.row IS NULL OR c.row = i.row)",
                (now,),
            )
            unmatched = [
                r[0] if r[1] is None else f"{r[0]}#{r[1]}"
                for r in conn.execute(
                    "SELECT DISTINCT i.request_id, i.row FROM incoming i WHERE NOT EXISTS ("
                    "SELECT 1 FROM captures c WHERE c.request_id = i.request_id AND (i.row IS NULL OR c.row = i.row))"
                )
            ]
            labelled = conn.execute(
                "SELECT COUNT(*) FROM labels l WHERE EXISTS (SELECT 1 FROM incoming i WHERE i.request_id = l.request_id)"
                " AND l.labelled_at = ?",
                (now,),
            ).fetchone()[0]
            conn.execute("DROP TABLE incoming")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
    return LabelJoin(labels=len(incoming), labelled_rows=int(labelled), unmatched_requests=tuple(unmatched))
