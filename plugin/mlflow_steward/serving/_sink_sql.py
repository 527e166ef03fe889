"""The SQL capture sink: a database (PostgreSQL) that servers on many machines share, through SQLAlchemy.

Any SQLAlchemy URL works as the capture URI, e.g. ``postgresql+psycopg2://user:pw@db/captures`` or
``postgresql+psycopg://...`` (the serving environment needs the driver: ``pip install
'mlflow-steward[postgres]'``, or the model's ``extra_pip_requirements``). Only PostgreSQL is tested.

Tables, prefixed so the sink can share a database with other applications (even MLflow's):
``steward_capture_requests`` (request_id, attempt, ts, status, model identity, n_rows; key request_id
+ attempt), ``steward_captures`` (request_id, attempt, row, features, prediction, probabilities) and
``steward_capture_labels`` (request_id, row, label, labelled_at). Predictions and labels are stored
as JSON text (a number or a class label), features and probabilities as JSON objects in text.

A batch is one transaction. The attempt of a reused request id is the next free one: two servers
that write the same new id at the same moment collide on the primary key, and the loser retries
with the next attempt, so both requests are kept.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from datetime import datetime
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import TIMESTAMP_FORMAT, CapturedRequest

TABLE_REQUESTS = "steward_capture_requests"
TABLE_CAPTURES = "steward_captures"
TABLE_LABELS = "steward_capture_labels"
KEY_RETRIES = 5
CONNECT_TIMEOUT_S = 10

NOT_A_SQL_CAPTURE = "{uri}: no capture tables ({table}); start a server with this capture URI first"
CANNOT_CONNECT = "{uri}: cannot open the capture database: {error}"

_ENGINES: dict[tuple[str, int], Any] = {}  # (URL, process): an engine's connections never cross a fork
_ENGINES_LOCK = threading.Lock()


def safe_name(uri: str) -> str:
    """The URL with its password hidden: what messages show."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: show the scheme only
        return uri.split("://", 1)[0] + "://..."


def _tables():
    import sqlalchemy as sa

    metadata = sa.MetaData()
    requests = sa.Table(
        TABLE_REQUESTS, metadata,
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(255)),
        sa.Column("model_version", sa.String(64)),
        sa.Column("model_id", sa.String(255)),
        sa.Column("run_id", sa.String(255)),
        sa.Column("n_rows", sa.Integer, nullable=False),
    )  # fmt: skip
    captures = sa.Table(
        TABLE_CAPTURES, metadata,
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("prediction", sa.Text),
        sa.Column("probabilities", sa.Text),
    )  # fmt: skip
    labels = sa.Table(
        TABLE_LABELS, metadata,
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.Text),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    return metadata, requests, captures, labels


def _engine(uri: str):
    with _ENGINES_LOCK:
        engine = _ENGINES.get((uri, os.getpid()))
        if engine is None:
            import sqlalchemy as sa

            connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if uri.startswith("postgresql") else {}
            engine = sa.create_engine(uri, pool_pre_ping=True, pool_size=2, max_overflow=2, connect_args=connect_args)
            _ENGINES[(uri, os.getpid())] = engine
        return engine


def _dispose(uri: str) -> None:
    with _ENGINES_LOCK:
        engine = _ENGINES.pop((uri, os.getpid()), None)
    if engine is not None:
        engine.dispose()


def _parse_ts(text: str) -> datetime:
    from datetime import timezone

    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def to_json_text(value: Any) -> str | None:
    """A prediction or label as JSON text (numpy scalars as Python values)."""
    return None if value is None else json.dumps(value, default=_plain)


def _from_json_text(value: Any) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


class SQLSink:
    """Captured requests into a SQL database shared by many servers (PostgreSQL)."""

    batch_wait_s = 0.05  # a few milliseconds of gathering saves round trips under load

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.name = safe_name(uri)
        self._created = False
        self._lock = threading.Lock()

    def _ensure_tables(self, engine) -> None:
        if self._created:
            return
        import sqlalchemy as sa

        metadata = _tables()[0]
        try:
            metadata.create_all(engine, checkfirst=True)
        except sa.exc.DBAPIError:  # another server created them at the same moment
            metadata.create_all(engine, checkfirst=True)
        self._created = True

    def write(self, requests: list[CapturedRequest]) -> int:
        import sqlalchemy as sa

        with self._lock:
            engine = _engine(self.uri)
            self._ensure_tables(engine)
            _, t_requests, t_captures, _ = _tables()
            for attempt in range(KEY_RETRIES):
                try:
                    with engine.begin() as conn:
                        return self._insert(conn, t_requests, t_captures, requests)
                except sa.exc.IntegrityError:  # another server took the same attempt number
                    if attempt == KEY_RETRIES - 1:
                        raise
            return 0  # pragma: no cover

    @staticmethod
    def _insert(conn, t_requests, t_captures, requests: list[CapturedRequest]) -> int:
        import sqlalchemy as sa

        ids = list(dict.fromkeys(r.request_id for r in requests))
        taken: Counter[str] = Counter()
        for start in range(0, len(ids), 1000):
            query = (
                sa.select(t_requests.c.request_id, sa.func.max(t_requests.c.attempt) + 1)
                .where(t_requests.c.request_id.in_(ids[start : start + 1000]))
                .group_by(t_requests.c.request_id)
            )
            taken.update(dict(conn.execute(query).all()))
        duplicates = 0
        request_rows, capture_rows = [], []
        for record in requests:
            attempt = taken[record.request_id]
            taken[record.request_id] = attempt + 1
            duplicates += attempt > 0
            rid, ts, status, name, version, model_id, run_id, n_rows = record.request
            request_rows.append({
                "request_id": rid, "attempt": attempt, "ts": _parse_ts(ts), "status": status, "model_name": name,
                "model_version": version, "model_id": model_id, "run_id": run_id, "n_rows": n_rows,
            })  # fmt: skip
            capture_rows.extend(
                {"request_id": rid, "attempt": attempt, "row": row, "features": features,
                 "prediction": to_json_text(prediction), "probabilities": probabilities}
                for row, features, prediction, probabilities in record.rows
            )  # fmt: skip
        conn.execute(sa.insert(t_requests), request_rows)
        conn.execute(sa.insert(t_captures), capture_rows)
        return duplicates

    def close(self) -> None:
        _dispose(self.uri)

    # -- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _connect_existing(uri: str):
        import sqlalchemy as sa

        try:
            engine = _engine(uri)
            inspector = sa.inspect(engine)
            for table in (TABLE_REQUESTS, TABLE_CAPTURES):
                if not inspector.has_table(table):
                    raise StewardInputError(NOT_A_SQL_CAPTURE.format(uri=safe_name(uri), table=table))
        except sa.exc.SQLAlchemyError as exc:
            raise StewardInputError(CANNOT_CONNECT.format(uri=safe_name(uri), error=str(exc).splitlines()[0])) from exc
        metadata, *tables = _tables()
        metadata.create_all(engine, tables=[tables[2]], checkfirst=True)  # labels: created on first read
        return engine, tables

    @classmethod
    def read(cls, uri: str, low: str | None, high: str | None, last_n: int | None) -> pd.DataFrame:
        import sqlalchemy as sa

        engine, (r, c, lab) = cls._connect_existing(uri)
        chosen = sa.select(r.c.request_id, r.c.attempt)
        if low is not None:
            chosen = chosen.where(r.c.ts >= _parse_ts(low))
        if high is not None:
            chosen = chosen.where(r.c.ts < _parse_ts(high))
        if last_n is not None:
            chosen = chosen.order_by(r.c.ts.desc(), r.c.request_id.desc(), r.c.attempt.desc()).limit(int(last_n))
        chosen = chosen.subquery("chosen")
        query = (
            sa.select(
                c.c.request_id, c.c.attempt, c.c.row, r.c.ts, r.c.status, r.c.model_name, r.c.model_version,
                r.c.model_id, r.c.run_id, c.c.features, c.c.prediction, c.c.probabilities, lab.c.label,
                lab.c.labelled_at,
            )
            .select_from(
                chosen.join(r, sa.and_(r.c.request_id == chosen.c.request_id, r.c.attempt == chosen.c.attempt))
                .join(c, sa.and_(c.c.request_id == chosen.c.request_id, c.c.attempt == chosen.c.attempt))
                .outerjoin(lab, sa.and_(lab.c.request_id == c.c.request_id, lab.c.row == c.c.row))
            )
            .order_by(r.c.ts, c.c.request_id, c.c.attempt, c.c.row)
        )  # fmt: skip
        with engine.connect() as conn:
            result = conn.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        for column in ("prediction", "label"):
            frame[column] = frame[column].map(_from_json_text).astype(object)
        for column in ("ts", "labelled_at"):
            stamps = pd.to_datetime(frame[column], utc=True)
            frame[column] = stamps.dt.strftime(TIMESTAMP_FORMAT).astype(object).where(stamps.notna(), None)
        return frame

    @classmethod
    def join_labels(cls, uri: str, incoming: list[tuple[str, int | None, Any]], now: str) -> tuple[int, list[str]]:
        import sqlalchemy as sa

        engine, (_, c, lab) = cls._connect_existing(uri)
        ids = list(dict.fromkeys(i[0] for i in incoming))
        with engine.begin() as conn:
            captured: dict[str, Counter[int]] = {}  # request id -> row -> how many attempts have it
            for start in range(0, len(ids), 1000):
                query = sa.select(c.c.request_id, c.c.row).where(c.c.request_id.in_(ids[start : start + 1000]))
                for request_id, row in conn.execute(query):
                    captured.setdefault(request_id, Counter())[row] += 1
            labels: dict[tuple[str, int], Any] = {}
            unmatched: list[str] = []
            for request_id, row, label in incoming:
                rows = captured.get(request_id, Counter())
                targets = list(rows) if row is None else [row] if row in rows else []
                if not targets:
                    unmatched.append(request_id if row is None else f"{request_id}#{row}")
                for target in targets:
                    labels[(request_id, target)] = label
            keys = list(labels)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                conn.execute(sa.delete(lab).where(sa.tuple_(lab.c.request_id, lab.c.row).in_(chunk)))
            if labels:
                stamp = _parse_ts(now)
                conn.execute(
                    sa.insert(lab),
                    [{"request_id": k[0], "row": k[1], "label": to_json_text(v), "labelled_at": stamp}
                     for k, v in labels.items()],
                )  # fmt: skip
        labelled = sum(captured[request_id][row] for request_id, row in labels)
        return labelled, list(dict.fromkeys(unmatched))
