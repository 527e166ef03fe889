"""The Parquet capture sink: a directory on shared storage that many servers write side by side.

Layout under the capture directory (``parquet:/mnt/shared/captures``)::

    captures/date=2026-11-30/part-<host>-<pid>-<random>-<seq>.parquet   one file per written batch
    labels/labels-<time>-<random>.parquet                                one file per label join

Every worker process writes only its own files, so writers never coordinate and need no locks: a
file is written under a dot-name (ignored by readers) and renamed into place, so a reader sees a
whole batch or nothing. Files are partitioned by the UTC date of the request (``date=``), so a
window reads only the days it covers. The writer gathers requests for up to ``batch_wait_s``
seconds (default 2) into one file; a worker killed with SIGKILL loses at most that much.

Each row repeats its request's values (Parquet's dictionary encoding makes that cheap) and a
``capture_key`` unique to the request (writer + sequence number). Attempts are numbered when read:
the requests that share a request id, in time order, are attempts 0, 1, ... A worker counts the
reused ids it wrote itself; reuse across workers shows up as ``attempt > 0`` when read.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import TIMESTAMP_FORMAT, CapturedRequest
from mlflow_steward.serving._sink_sql import _from_json_text, to_json_text

CAPTURES_DIR = "captures"
LABELS_DIR = "labels"
DEFAULT_BATCH_WAIT_S = 2.0
RECENT_IDS = 100_000  # request ids a writer remembers to count reuse

PARQUET_NOT_FOUND = "Parquet capture directory {path} does not exist (set STEWARD_CAPTURE_PATH=parquet:{path} on the servers)"
NOT_A_PARQUET_CAPTURE = "{path} is not a Parquet capture directory (no {sub}/ inside)"

_STRING_COLUMNS = (
    "request_id", "capture_key", "status", "model_name", "model_version", "model_id", "run_id",
    "features", "prediction", "probabilities",
)  # fmt: skip


def _schema():
    import pyarrow as pa

    fields = [pa.field(name, pa.string()) for name in _STRING_COLUMNS]
    fields.insert(2, pa.field("row", pa.int32()))
    fields.insert(3, pa.field("ts", pa.timestamp("us", tz="UTC")))
    return pa.schema(fields)


def _label_schema():
    import pyarrow as pa

    return pa.schema(
        [("request_id", pa.string()), ("row", pa.int32()), ("label", pa.string()),
         ("labelled_at", pa.timestamp("us", tz="UTC"))]
    )  # fmt: skip


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def _write_atomically(table, directory: Path, name: str) -> Path:
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    temporary = directory / f".{name}.tmp"
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, final)
    return final


class ParquetSink:
    """Captured requests as Parquet files under one directory, one file per written batch."""

    def __init__(self, root: str | Path, *, batch_wait_s: float = DEFAULT_BATCH_WAIT_S) -> None:
        self.root = Path(root)
        self.name = f"parquet:{self.root}"
        self.batch_wait_s = float(batch_wait_s)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()

    def _writer_id(self) -> str:
        if self._pid != os.getpid():  # a new process (fork): a new writer with its own files
            self._pid = os.getpid()
            host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:40] or "host"
            self._writer = f"{host}-{self._pid}-{secrets.token_hex(3)}"
            self._sequence = 0
            self._recent.clear()
        return self._writer

    def write(self, requests: list[CapturedRequest]) -> int:
        import pyarrow as pa

        with self._lock:
            writer = self._writer_id()
            columns: dict[str, list[Any]] = {name: [] for name in _schema().names}
            duplicates = 0
            for record in requests:
                self._sequence += 1
                key = f"{writer}:{self._sequence}"
                rid, ts, status, name, version, model_id, run_id, n_rows = record.request
                if rid in self._recent:
                    duplicates += 1
                    self._recent.move_to_end(rid)
                else:
                    self._recent[rid] = None
                    if len(self._recent) > RECENT_IDS:
                        self._recent.popitem(last=False)
                moment = _parse_ts(ts)
                for row, features, prediction, probabilities in record.rows:
                    for column, value in (
                        ("request_id", rid), ("capture_key", key), ("row", row), ("ts", moment), ("status", status),
                        ("model_name", name), ("model_version", version), ("model_id", model_id),
                        ("run_id", run_id), ("features", features), ("prediction", to_json_text(prediction)),
                        ("probabilities", probabilities),
                    ):  # fmt: skip
                        columns[column].append(value)
            table = pa.table(columns, schema=_schema())
            days = sorted({moment.strftime("%Y-%m-%d") for moment in columns["ts"]})
            import pyarrow.compute as pc

            for day in days:
                part = table if len(days) == 1 else table.filter(pc.equal(pc.strftime(table["ts"], "%Y-%m-%d"), day))
                _write_atomically(
                    part, self.root / CAPTURES_DIR / f"date={day}", f"part-{writer}-{self._sequence:09d}.parquet"
                )
        return duplicates

    def close(self) -> None:
        pass

    # -- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _dataset(root: Path):
        import pyarrow as pa
        import pyarrow.dataset as ds

        if not root.is_dir():
            raise StewardInputError(PARQUET_NOT_FOUND.format(path=root))
        directory = root / CAPTURES_DIR
        if not directory.is_dir():
            raise StewardInputError(NOT_A_PARQUET_CAPTURE.format(path=root, sub=CAPTURES_DIR))
        partitioning = ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive")
        return ds.dataset(directory, format="parquet", partitioning=partitioning, schema=_schema().append(
            pa.field("date", pa.string())), ignore_prefixes=[".", "_"])  # fmt: skip

    @classmethod
    def read(cls, root: str | Path, low: str | None, high: str | None, last_n: int | None) -> pd.DataFrame:
        import pyarrow as pa
        import pyarrow.dataset as ds

        root = Path(root)
        dataset = cls._dataset(root)
        condition = None
        stamp = pa.timestamp("us", tz="UTC")
        for bound, op in ((low, "ge"), (high, "lt")):
            if bound is None:
                continue
            moment = _parse_ts(bound)
            day = ds.field("date") >= moment.strftime("%Y-%m-%d") if op == "ge" else ds.field("date") <= moment.strftime("%Y-%m-%d")
            value = pa.scalar(moment, type=stamp)
            term = day & ((ds.field("ts") >= value) if op == "ge" else (ds.field("ts") < value))
            condition = term if condition is None else condition & term
        keys = dataset.to_table(columns=["request_id", "capture_key", "ts"], filter=condition).to_pandas()
        requests = keys.drop_duplicates("capture_key")
        attempts = cls._attempts(root, requests["request_id"].unique().tolist(), dataset) if len(requests) else {}
        if last_n is not None and len(requests):
            requests = requests.sort_values(["ts", "request_id", "capture_key"]).tail(int(last_n))
            condition = ds.field("capture_key").isin(requests["capture_key"].tolist())
        table = dataset.to_table(columns=[c for c in _schema().names], filter=condition)
        frame = table.to_pandas()
        frame["attempt"] = frame["capture_key"].map(attempts).astype("int64") if len(frame) else pd.Series(dtype="int64")
        frame["prediction"] = frame["prediction"].map(_from_json_text).astype(object)
        frame["ts"] = frame["ts"].dt.strftime(TIMESTAMP_FORMAT).astype(object)
        labels = cls._labels(root)
        if len(labels):
            frame = frame.merge(labels, on=["request_id", "row"], how="left")
        else:
            frame["label"], frame["labelled_at"] = None, None
        frame = frame.sort_values(["ts", "request_id", "attempt", "row"], kind="stable").reset_index(drop=True)
        return frame.drop(columns=["capture_key"])

    @staticmethod
    def _attempts(root: Path, request_ids: list[str], dataset) -> dict[str, int]:
        """capture_key -> attempt: the requests sharing an id, in time order, over the whole capture."""
        import pyarrow.dataset as ds

        every = dataset.to_table(
            columns=["request_id", "capture_key", "ts"], filter=ds.field("request_id").isin(request_ids)
        ).to_pandas().drop_duplicates("capture_key")  # fmt: skip
        every = every.sort_values(["request_id", "ts", "capture_key"])
        every["attempt"] = every.groupby("request_id").cumcount()
        return dict(zip(every["capture_key"], every["attempt"]))

    @staticmethod
    def _labels(root: Path) -> pd.DataFrame:
        import pyarrow.dataset as ds

        directory = root / LABELS_DIR
        if not directory.is_dir() or not any(p.suffix == ".parquet" for p in directory.iterdir()):
            return pd.DataFrame()
        labels = ds.dataset(directory, format="parquet", schema=_label_schema(), ignore_prefixes=[".", "_"]).to_table()
        frame = labels.to_pandas().sort_values("labelled_at", kind="stable")
        frame = frame.drop_duplicates(["request_id", "row"], keep="last")
        frame["label"] = frame["label"].map(_from_json_text).astype(object)
        frame["labelled_at"] = frame["labelled_at"].dt.strftime(TIMESTAMP_FORMAT).astype(object)
        frame["row"] = frame["row"].astype("int32")
        return frame

    @classmethod
    def join_labels(cls, root: str | Path, incoming: list[tuple[str, int | None, Any]], now: str) -> tuple[int, list[str]]:
        import pyarrow as pa
        import pyarrow.dataset as ds

        root = Path(root)
        dataset = cls._dataset(root)
        ids = list(dict.fromkeys(i[0] for i in incoming))
        captured = dataset.to_table(columns=["request_id", "row"], filter=ds.field("request_id").isin(ids)).to_pandas()
        counts = captured.groupby(["request_id", "row"]).size().to_dict()
        rows_of: dict[str, list[int]] = {}
        for request_id, row in counts:
            rows_of.setdefault(request_id, []).append(int(row))
        labels: dict[tuple[str, int], Any] = {}
        unmatched: list[str] = []
        for request_id, row, label in incoming:
            rows = rows_of.get(request_id, [])
            targets = rows if row is None else [row] if row in rows else []
            if not targets:
                unmatched.append(request_id if row is None else f"{request_id}#{row}")
            for target in targets:
                labels[(request_id, target)] = label
        if labels:
            moment = _parse_ts(now)
            table = pa.table(
                {"request_id": [k[0] for k in labels], "row": [k[1] for k in labels],
                 "label": [to_json_text(v) for v in labels.values()], "labelled_at": [moment] * len(labels)},
                schema=_label_schema(),
            )  # fmt: skip
            name = f"labels-{moment.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.parquet"
            _write_atomically(table, root / LABELS_DIR, name)
        labelled = sum(counts[key] for key in labels)
        return labelled, list(dict.fromkeys(unmatched))
