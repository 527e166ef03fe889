"""Capture under faults and on shared sinks, against real ``mlflow models serve`` processes.

* Another process holds a write lock on the SQLite capture file: predictions are not delayed, rows
  beyond the queue bound are dropped, counted and reported in the workers' summary line.
* A request the scoring server times out (HTTP 504) is captured as ``timed_out``, not ``answered``.
* Two workers write a Parquet directory, or a PostgreSQL database: every answered row is captured
  once (flushed when the workers stop), a request id reused across workers is kept as attempts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import requests

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import log_pipeline_model, read_captures

pytestmark = pytest.mark.e2e

SUMMARY = re.compile(
    r"inference capture to .*?: (?P<captured>\d+) row\(s\) captured \((?P<requests>\d+) request\(s\)\), "
    r"(?P<dropped>\d+) dropped, (?P<failed>\d+) failed, (?P<reused>\d+) reused request id\(s\), "
    r"(?P<timed_out>\d+) timed-out request\(s\)"
)


@dataclass
class Logged:
    tracking_uri: str
    model_uri: str
    rows: pd.DataFrame


@pytest.fixture(scope="module")
def logged(tmp_path_factory, store_copy, housing_model, housing_xy) -> Logged:
    tmp = tmp_path_factory.mktemp("faults")
    X, _ = housing_xy
    with store_copy(tmp, "faults") as (uri, experiment), mlflow.start_run(experiment_id=experiment):
        packaged = log_pipeline_model(housing_model, input_example=X.head(5))
    return Logged(tracking_uri=uri, model_uri=packaged.model_uri, rows=X.reset_index(drop=True))


def _body(rows: pd.DataFrame, request_id: str | None = None) -> dict:
    body: dict = {"dataframe_split": rows.to_dict(orient="split", index=False)}
    if request_id is not None:
        body["params"] = {names.PARAM_REQUEST_ID: request_id}
    return body


def _summaries(log: Path, workers: int = 1) -> dict[str, int]:
    """The capture counts of every worker's shutdown summary, added up. The workers may still be
    flushing when ``mlflow models serve`` itself has exited: wait for their lines."""

    def summaries() -> list[dict[str, str]]:
        return [m.groupdict() for m in SUMMARY.finditer(log.read_text(errors="replace"))]

    assert _wait(lambda: len(summaries()) >= workers, timeout=60), log.read_text(errors="replace")[-3000:]
    found = summaries()
    totals = {key: sum(int(m[key]) for m in found) for key in found[0]}
    totals["workers"] = len(found)
    return totals


def _count(capture_uri) -> int:
    """Rows captured so far (0 while the first worker is still creating the sink)."""
    try:
        return len(read_captures(capture_uri))
    except StewardInputError:
        return 0


def _wait(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_locked_capture_file_never_delays_predictions_and_lost_rows_are_counted(
    logged, tmp_path, serve_model, make_server_env
):
    capture = tmp_path / "captures.db"
    env = make_server_env(
        MLFLOW_TRACKING_URI=logged.tracking_uri,
        **{names.ENV_CAPTURE_PATH: str(capture), names.ENV_CAPTURE_QUEUE_ROWS: "40"},
    )  # fmt: skip
    log = tmp_path / "server.log"
    lock_seconds = 12.0
    rows = logged.rows.head(3)
    with serve_model(logged.model_uri, log, env=env) as server:
        url = server.invocations()
        assert requests.post(url, json=_body(rows, "before-lock"), timeout=60).status_code == 200
        assert _wait(lambda: _count(capture) == 3)
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(capture), str(lock_seconds)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert locker.stdout.readline().strip() == "locked"
            locked_at = time.monotonic()
            latencies = []
            with requests.Session() as session:
                for i in range(30):
                    started = time.monotonic()
                    response = session.post(url, json=_body(rows, f"locked-{i}"), timeout=60)
                    latencies.append(time.monotonic() - started)
                    assert response.status_code == 200, response.text
            sent_while_locked = time.monotonic() - locked_at < lock_seconds
        finally:
            locker.wait(60)
        assert sent_while_locked  # all 30 requests went out while the file was locked
        # not one prediction waited for the lock (12 s); each took what a prediction takes
        assert max(latencies) < lock_seconds / 4, latencies
        assert _wait(lambda: _count(capture) > 3)  # the writer resumes after the lock
    counts = _summaries(log)  # the worker's exit summary
    captured = read_captures(capture)
    assert counts["captured"] == len(captured)
    assert counts["captured"] + counts["dropped"] == 3 + 30 * 3  # every answered row is accounted for
    assert counts["dropped"] > 0 and counts["failed"] == 0
    assert "inference capture to" in log.read_text() and "dropping captures" in log.read_text()


def test_requests_that_timed_out_are_captured_as_timed_out(logged, tmp_path, serve_model, make_server_env):
    capture = tmp_path / "captures.db"
    env = make_server_env(
        MLFLOW_TRACKING_URI=logged.tracking_uri, MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT="1",
        **{names.ENV_CAPTURE_PATH: str(capture)},
    )  # fmt: skip
    big = pd.concat([logged.rows] * 150, ignore_index=True)  # 225,000 rows: seconds of parsing and scoring
    with serve_model(logged.model_uri, tmp_path / "server.log", env=env) as server:
        url = server.invocations()
        fast = requests.post(url, json=_body(logged.rows.head(2), "quick"), timeout=60)
        assert fast.status_code == 200
        text = json.dumps(_body(big, "too-slow"))  # NaN for the missing values, as MLflow's client sends
        slow = requests.post(url, data=text, headers={"Content-Type": "application/json"}, timeout=300)
        assert slow.status_code == 504, slow.text[:300]
        assert _wait(lambda: _count(capture) == len(big) + 2, timeout=240)
    statuses = read_captures(capture).groupby("request_id")["status"].unique().map(list).to_dict()
    assert statuses == {"too-slow": ["timed_out"], "quick": ["answered"]}


def _load(url: str, rows: pd.DataFrame, *, n_threads: int = 4, per_thread: int = 80) -> int:
    """Bounded: ``n_threads`` clients x ``per_thread`` requests of 1-3 rows (some named); the rows answered."""
    answered = [0] * n_threads
    errors: list[str] = []

    def client(t: int) -> None:
        for i in range(per_thread):  # a new connection per request: the workers take turns accepting
            body = _body(rows.iloc[: 1 + i % 3], f"load-{t}-{i}" if i % 2 else None)
            response = requests.post(url, json=body, timeout=60)
            if response.status_code == 200:
                answered[t] += len(response.json()["predictions"])
            else:
                errors.append(response.text[:200])

    threads = [threading.Thread(target=client, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors
    return sum(answered)


def _shared_sink_round(capture_uri: str, logged: Logged, tmp_path: Path, serve_model, make_server_env) -> None:
    env = make_server_env(
        MLFLOW_TRACKING_URI=logged.tracking_uri,
        **{names.ENV_CAPTURE_PATH: capture_uri, names.ENV_CAPTURE_BATCH_SECONDS: "1"},
    )  # fmt: skip
    log = tmp_path / "server.log"
    rows = logged.rows.head(3)
    with serve_model(logged.model_uri, log, env=env, workers=2) as server:
        answered = _load(server.invocations(), rows)
        for _ in range(6):  # one id, sent again and again, over new connections: to both workers
            assert requests.post(server.invocations(), json=_body(rows.head(1), "again"), timeout=60).ok
        answered += 6
    counts = _summaries(log, workers=2)  # both workers flushed and reported when they stopped
    assert counts["workers"] == 2 and counts["dropped"] == 0 and counts["failed"] == 0
    captured = read_captures(capture_uri)
    assert len(captured) == answered == counts["captured"]
    assert not captured.duplicated(["request_id", "attempt", "row"]).any()
    assert sorted(captured.query("request_id == 'again'")["attempt"]) == [0, 1, 2, 3, 4, 5]
    named = captured[captured["request_id"].str.startswith("load-")].groupby("request_id").size()
    assert all(size == 1 + int(rid.rsplit("-", 1)[1]) % 3 for rid, size in named.items())
    assert set(captured["status"]) == {"answered"}


def test_two_workers_share_a_parquet_capture_directory(logged, tmp_path, serve_model, make_server_env):
    directory = tmp_path / "shared" / "captures"
    _shared_sink_round(f"parquet:{directory}", logged, tmp_path, serve_model, make_server_env)
    files = list((directory / "captures").rglob("part-*.parquet"))
    writers = {re.match(r"part-(.+)-\d+\.parquet", f.name).group(1) for f in files}
    assert len(writers) == 2  # each worker wrote only its own files
    assert not list(directory.rglob(".*.tmp"))  # every file was renamed into place


@pytest.mark.postgres
def test_two_workers_share_a_postgresql_capture_database(
    logged, tmp_path, serve_model, make_server_env, make_database
):
    uri = make_database("served_capture")
    _shared_sink_round(uri, logged, tmp_path, serve_model, make_server_env)
