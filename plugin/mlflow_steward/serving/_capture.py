"""Inference capture: every scored row, with its request id, into one SQLite file.

Storage is SQLite in WAL mode, which lets several server workers (processes) and their threads
write the same file: each process opens one connection (re-opened after a fork), a lock serialises
its threads, and every request is written with one ``executemany`` inside one ``BEGIN IMMEDIATE``
transaction, so a request's rows land all together or not at all. ``busy_timeout`` makes a writer
wait for the others instead of failing. The primary key ``(request_id, row)`` rules out duplicates.
``synchronous=NORMAL``: a committed request survives a crash of the server process (not of the
machine's power).

Capture never fails a prediction: any error is logged with :func:`logging.warning` (the first one,
then every :data:`WARN_EVERY`-th) and the prediction is returned as usual.

Tables: ``requests`` (one row per predict call: request_id, ts in UTC ISO 8601 with microseconds so
text order is time order, model_name, model_version, model_id, run_id, n_rows) and ``captures`` (one
row per scored row: request_id, row = position in the request, features = JSON object of the input
row as the model saw it, prediction = the value itself, probabilities = JSON object class ->
probability for classifiers). Request-level values are stored once per request, not per row: a
1,000-row request writes a third fewer bytes and one ``ts`` index entry. ``labels`` holds labels
joined later (:func:`~mlflow_steward.serving.join_labels`);
:func:`~mlflow_steward.serving.read_captures` joins the three back into one row per scored row.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

CAPTURE_FAILED = (
    "inference capture to {path} failed ({count} failure(s) so far); predictions are still returned: {error}"
)
WARN_EVERY = 1000
BUSY_TIMEOUT_MS = 30_000
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS requests (
        request_id TEXT PRIMARY KEY,
        ts TEXT NOT NULL,
        model_name TEXT,
        model_version TEXT,
        model_id TEXT,
        run_id TEXT,
        n_rows INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts)",
    """CREATE TABLE IF NOT EXISTS captures (
        request_id TEXT NOT NULL,
        row INTEGER NOT NULL,
        features TEXT NOT NULL,
        prediction,
        probabilities TEXT,
        PRIMARY KEY (request_id, row)
    )""",  # a rowid table: rows append in order; only the key index takes the random request ids
    """CREATE TABLE IF NOT EXISTS labels (
        request_id TEXT NOT NULL,
        row INTEGER NOT NULL,
        label,
        labelled_at TEXT NOT NULL,
        PRIMARY KEY (request_id, row)
    ) WITHOUT ROWID""",
)
REQUEST_COLUMNS = ("request_id", "ts", "model_name", "model_version", "model_id", "run_id", "n_rows")
ROW_COLUMNS = ("request_id", "row", "features", "prediction", "probabilities")
#: The columns of one captured row as read back (before ``label`` and ``labelled_at``).
CAPTURE_COLUMNS = (
    "request_id", "row", "ts", "model_name", "model_version", "model_id", "run_id",
    "features", "prediction", "probabilities",
)  # fmt: skip
_INSERT_REQUEST = f"INSERT INTO requests VALUES ({', '.join('?' * len(REQUEST_COLUMNS))})"
_INSERT_ROWS = f"INSERT INTO captures VALUES ({', '.join('?' * len(ROW_COLUMNS))})"


@dataclass(frozen=True)
class ModelIdentity:
    """What a captured row says about the model that scored it."""

    name: str | None = None
    version: str | None = None
    model_id: str | None = None
    run_id: str | None = None


def utc_timestamp(moment: datetime | None = None) -> str:
    """``2026-01-31T12:00:00.000000Z``: the fixed-width UTC text stored in ``ts``."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def connect(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open a capture database (WAL, busy timeout, autocommit; ``create``: make the tables)."""
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if create:
            _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = NORMAL")
            _retry_locked(lambda: _create_tables(conn))
    except BaseException:
        conn.close()
        raise
    return conn


def _create_tables(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA:
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _retry_locked(action, attempts: int = 50):
    """Run ``action``, retrying while another process holds the lock (first creation races)."""
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)
    return None  # pragma: no cover


def _json_lines(frame: pd.DataFrame) -> list[str]:
    text = frame.to_json(orient="records", lines=True, date_format="iso")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _prediction_values(predictions: Any, n_rows: int) -> list[Any]:
    values = np.asarray(predictions)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        return values.tolist()
    return [json.dumps(v) for v in values.reshape(n_rows, -1).tolist()]


@dataclass(frozen=True)
class CapturedRequest:
    """What one predict call adds: a ``requests`` row and its ``captures`` rows."""

    request: tuple
    rows: list[tuple]


def capture_rows(
    frame: pd.DataFrame,
    predictions: Any,
    *,
    request_id: str,
    identity: ModelIdentity,
    probabilities: np.ndarray | None = None,
    classes: Any = None,
    timestamp: str | None = None,
) -> CapturedRequest:
    """The rows one request adds (built column-wise: no per-row Python logic)."""
    n_rows = len(frame)
    features = _json_lines(frame)
    values = _prediction_values(predictions, n_rows)
    if probabilities is not None:
        columns = [str(c) for c in (classes if classes is not None else range(np.shape(probabilities)[1]))]
        probs: Any = _json_lines(pd.DataFrame(np.asarray(probabilities), columns=columns))
    else:
        probs = repeat(None, n_rows)
    request = (
        request_id, timestamp or utc_timestamp(), identity.name, identity.version,
        identity.model_id, identity.run_id, n_rows,
    )  # fmt: skip
    rows = list(zip(repeat(request_id, n_rows), range(n_rows), features, values, probs))
    return CapturedRequest(request=request, rows=rows)


class CaptureWriter:
    """Appends captured requests to one SQLite file; safe across threads and worker processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self.failures = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._conn = connect(self.path)
            self._pid = os.getpid()
        return self._conn

    def write(self, captured: CapturedRequest) -> None:
        """Insert one request and its rows in one transaction (raises; :meth:`record` does not)."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(_INSERT_REQUEST, captured.request)
                    conn.executemany(_INSERT_ROWS, captured.rows)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error:
                self._drop_connection()
                raise

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass

    def record(self, frame: pd.DataFrame, predictions: Any, **kwargs: Any) -> bool:
        """Capture one request (see :func:`capture_rows`); log a warning and return False on failure."""
        try:
            self.write(capture_rows(frame, predictions, **kwargs))
            return True
        except Exception as exc:  # capture must never fail the prediction
            self.failures += 1
            if self.failures == 1 or self.failures % WARN_EVERY == 0:
                logger.warning(
                    CAPTURE_FAILED.format(path=self.path, count=self.failures, error=f"{type(exc).__name__}: {exc}")
                )
            return False

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def __getstate__(self) -> dict[str, Any]:  # never pickle a connection or a lock
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])
