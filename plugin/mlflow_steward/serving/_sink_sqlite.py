"""The SQLite capture sink: one file that the workers of one machine share.

WAL mode lets several server workers (processes) write the same file: each writer opens one
connection, and a batch of requests is written inside one ``BEGIN IMMEDIATE`` transaction, so a
request's rows land all together or not at all. ``busy_timeout`` makes a writer wait for the others
(the writer thread waits, never a prediction). ``synchronous=NORMAL``: a committed request survives a
crash of the server process (not of the machine's power).

Tables: ``requests`` (request_id, attempt, ts, status, model_name, model_version, model_id, run_id,
n_rows; key request_id + attempt), ``captures`` (request_id, attempt, row, features, prediction,
probabilities; key request_id + attempt + row) and ``labels`` (request_id, row, label, labelled_at;
a label applies to every attempt of its request id). ``PRAGMA user_version`` is 2; a file written
by the previous release (version 0: no attempt or status) is migrated in place on first write, its
rows becoming attempt 0, status ``answered``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import CapturedRequest

SCHEMA_VERSION = 2
WRITE_BUSY_TIMEOUT_MS = 5_000  # the writer thread retries; a long lock never reaches a prediction
READ_BUSY_TIMEOUT_MS = 30_000

CAPTURE_NOT_FOUND = "capture database {path} does not exist (set STEWARD_CAPTURE_PATH on the server to create it)"
NOT_A_CAPTURE = "{path} is not a capture database: {error}"
IS_A_DIRECTORY = "{path} is a directory; a Parquet capture is read as parquet:{path}"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS requests (
        request_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        ts TEXT NOT NULL,
        status TEXT NOT NULL,
        model_name TEXT,
        model_version TEXT,
        model_id TEXT,
        run_id TEXT,
        n_rows INTEGER NOT NULL,
        PRIMARY KEY (request_id, attempt)
    )""",
    "CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts)",
    """CREATE TABLE IF NOT EXISTS captures (
        request_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        row INTEGER NOT NULL,
        features TEXT NOT NULL,
        prediction,
        probabilities TEXT,
        PRIMARY KEY (request_id, attempt, row)
    )""",  # a rowid table: rows append in order; only the key index takes the random request ids
    """CREATE TABLE IF NOT EXISTS labels (
        request_id TEXT NOT NULL,
        row INTEGER NOT NULL,
        label,
        labelled_at TEXT NOT NULL,
        PRIMARY KEY (request_id, row)
    ) WITHOUT ROWID""",
)
# The previous release's tables (user_version 0) -> these, keeping every row as attempt 0.
MIGRATE_FROM_V0 = (
    "ALTER TABLE requests RENAME TO requests_v0",
    "ALTER TABLE captures RENAME TO captures_v0",
    "DROP INDEX IF EXISTS requests_ts",
    *SCHEMA[:3],
    "INSERT INTO requests SELECT request_id, 0, ts, 'answered', model_name, model_version, model_id, run_id, n_rows "
    "FROM requests_v0",
    "INSERT INTO captures SELECT request_id, 0, row, features, prediction, probabilities FROM captures_v0",
    "DROP TABLE requests_v0",
    "DROP TABLE captures_v0",
)
_INSERT_REQUEST = "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_ROWS = "INSERT INTO captures VALUES (?, ?, ?, ?, ?, ?)"
_READ_COLUMNS = (
    "c.request_id, c.attempt, c.row, r.ts, r.status, r.model_name, r.model_version, r.model_id, r.run_id, "
    "c.features, c.prediction, c.probabilities, l.label, l.labelled_at"
)


def connect(path: str | Path, *, create: bool = True, busy_timeout_ms: int = READ_BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """Open a capture database (WAL, busy timeout, autocommit; ``create``: make or migrate the tables)."""
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        if create:
            _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = NORMAL")
            _retry_locked(lambda: _create_tables(conn))
    except BaseException:
        conn.close()
        raise
    return conn


def _table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _create_tables(conn: sqlite3.Connection) -> None:
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = "requests" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        statements = MIGRATE_FROM_V0 if old and "attempt" not in _table_columns(conn, "requests") else ()
        for statement in (*statements, *SCHEMA):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
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


def open_existing(path: str | Path) -> sqlite3.Connection:
    """A connection to an existing capture file (migrated if it is of the previous release)."""
    path = Path(path)
    if path.is_dir():
        raise StewardInputError(IS_A_DIRECTORY.format(path=path))
    if not path.is_file():
        raise StewardInputError(CAPTURE_NOT_FOUND.format(path=path))
    try:
        conn = connect(path, create=False)
        conn.execute("SELECT 1 FROM captures LIMIT 1").fetchall()
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            _retry_locked(lambda: _create_tables(conn))
    except sqlite3.Error as exc:
        raise StewardInputError(NOT_A_CAPTURE.format(path=path, error=exc)) from exc
    return conn


class SQLiteSink:
    """Captured requests into one SQLite file; safe across threads and worker processes."""

    batch_wait_s = 0.0  # write whatever is queued, as soon as it is queued

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.name = self.path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # never use a connection across a fork
            self._conn = connect(self.path, busy_timeout_ms=WRITE_BUSY_TIMEOUT_MS)
            self._pid = os.getpid()
        return self._conn

    def write(self, requests: list[CapturedRequest]) -> int:
        """Insert the requests and their rows in one transaction; return how many reused an id."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    duplicates = self._insert(conn, requests)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error:
                self._drop_connection()
                raise
        return duplicates

    @staticmethod
    def _insert(conn: sqlite3.Connection, requests: list[CapturedRequest]) -> int:
        ids = list(dict.fromkeys(r.request_id for r in requests))
        taken: Counter[str] = Counter()
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            taken.update(
                dict(conn.execute(
                    f"SELECT request_id, MAX(attempt) + 1 FROM requests WHERE request_id IN ({marks}) GROUP BY request_id",
                    chunk,
                ).fetchall())
            )  # fmt: skip
        duplicates = 0
        for record in requests:
            attempt = taken[record.request_id]
            taken[record.request_id] = attempt + 1
            duplicates += attempt > 0
            rid, *rest = record.request
            conn.execute(_INSERT_REQUEST, (rid, attempt, *rest))
            conn.executemany(_INSERT_ROWS, [(rid, attempt, *row) for row in record.rows])
        return duplicates

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    # -- reading ---------------------------------------------------------------------------------
    @staticmethod
    def read(path: str | Path, low: str | None, high: str | None, last_n: int | None) -> pd.DataFrame:
        """Captured rows of requests with ``low <= ts < high``, the last ``last_n`` requests if given."""
        where, args = [], []
        if low is not None:
            where.append("ts >= ?")
            args.append(low)
        if high is not None:
            where.append("ts < ?")
            args.append(high)
        selected = "SELECT request_id, attempt, ts FROM requests" + (" WHERE " + " AND ".join(where) if where else "")
        if last_n is not None:
            selected += " ORDER BY ts DESC, request_id DESC, attempt DESC LIMIT ?"
            args.append(int(last_n))
        query = (
            f"WITH chosen AS ({selected}) SELECT {_READ_COLUMNS} FROM chosen s "
            "JOIN requests r ON r.request_id = s.request_id AND r.attempt = s.attempt "
            "JOIN captures c ON c.request_id = s.request_id AND c.attempt = s.attempt "
            "LEFT JOIN labels l ON l.request_id = c.request_id AND l.row = c.row "
            "ORDER BY r.ts, c.request_id, c.attempt, c.row"
        )
        conn = open_existing(path)
        try:
            cursor = conn.execute(query, args)
            names = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=names)
        finally:
            conn.close()

    @staticmethod
    def join_labels(path: str | Path, incoming: list[tuple[str, int | None, Any]], now: str) -> tuple[int, list[str]]:
        """Store labels of captured rows; return (rows labelled, unmatched ids)."""
        conn = open_existing(path)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TEMP TABLE incoming (request_id TEXT, row INTEGER, label)")
                conn.executemany("INSERT INTO incoming VALUES (?, ?, ?)", incoming)
                conn.execute(
                    "INSERT OR REPLACE INTO labels (request_id, row, label, labelled_at) "
                    "SELECT DISTINCT c.request_id, c.row, i.label, ? FROM incoming i JOIN captures c "
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
                    "SELECT COUNT(*) FROM captures c JOIN labels l ON l.request_id = c.request_id AND l.row = c.row "
                    "WHERE l.labelled_at = ? AND EXISTS (SELECT 1 FROM incoming i WHERE i.request_id = c.request_id)",
                    (now,),
                ).fetchone()[0]
                conn.execute("DROP TABLE incoming")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
        return int(labelled), unmatched
