"""The capture queue: a prediction never waits for the sink, what cannot be written is counted and
reported, everything queued is written at close; MLflow's rewrite of error messages is undone."""

from __future__ import annotations

import json
import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.serving import CaptureQueue, ModelIdentity, capture_stats
from mlflow_steward.serving import _capture_queue as q
from mlflow_steward.serving._capture import PendingCapture, utc_timestamp


class GatedSink:
    """A sink whose writes wait until ``gate`` is set (a locked database), or fail while ``failing``."""

    batch_wait_s = 0.0

    def __init__(self) -> None:
        self.name = "gated"
        self.gate = threading.Event()
        self.failing = False
        self.written: list[str] = []

    def write(self, requests) -> int:
        self.gate.wait()
        if self.failing:
            raise OSError("disk on fire")
        self.written.extend(r.request_id for r in requests)
        return 0

    def close(self) -> None:
        pass


def _pending(request_id: str, n: int = 2) -> PendingCapture:
    frame = pd.DataFrame({"x": np.arange(n, dtype=float)})
    return PendingCapture(frame=frame, predictions=frame["x"], request_id=request_id, identity=ModelIdentity(),
                          timestamp=utc_timestamp())  # fmt: skip


def test_a_blocked_sink_never_blocks_submit_and_overflow_is_counted(caplog):
    sink = GatedSink()
    queue = CaptureQueue(sink, max_rows=10)
    with caplog.at_level(logging.INFO, logger=q.__name__):
        accepted = [queue.submit(_pending(f"r{i}")) for i in range(8)]  # 16 rows offered, 10 fit
        assert accepted == [True] * 5 + [False] * 3  # returned at once: the sink is still blocked
        assert queue.stats.dropped_rows == 6 and queue.stats.pending_rows == 10
        assert capture_stats()["gated"]["dropped_requests"] == 3
        sink.gate.set()
        assert queue.flush(timeout=30)
        stats = queue.close()
    assert sink.written == [f"r{i}" for i in range(5)]
    assert (stats.captured_rows, stats.captured_requests, stats.dropped_rows, stats.failed_rows) == (10, 5, 6, 0)
    messages = [r.getMessage() for r in caplog.records if r.name == q.__name__]
    assert messages[0] == q.DROPPING.format(sink="gated", limit=10, dropped=2)  # logged once per overflow
    assert messages[-1] == q.SUMMARY.format(sink="gated", **stats.snapshot())
    assert "10 row(s) captured (5 request(s)), 6 dropped, 0 failed" in messages[-1]
    assert not queue.submit(_pending("late"))  # closed: counted, not queued
    assert queue.stats.dropped_rows == 8


def test_a_failing_sink_is_retried_then_counted_as_failed_at_close(caplog):
    sink = GatedSink()
    sink.failing = True
    sink.gate.set()
    queue = CaptureQueue(sink, give_up_s=60)
    with caplog.at_level(logging.INFO, logger=q.__name__):
        assert queue.submit(_pending("a", 3)) and queue.submit(_pending("b", 1))
        time.sleep(0.3)  # a few retries
        assert not queue.flush(timeout=0.2)
        stats = queue.close(timeout=0.5)
    assert (stats.captured_rows, stats.failed_rows, stats.pending_rows) == (0, 4, 0)
    failing = [r for r in caplog.records if r.getMessage().startswith("inference capture to gated failing")]
    assert len(failing) == 1  # the first failure is logged, not every retry
    assert "0 row(s) captured (0 request(s)), 0 dropped, 4 failed" in caplog.records[-1].getMessage()


def test_a_failing_sink_gives_up_after_give_up_s_and_goes_on():
    sink = GatedSink()
    sink.failing = True
    sink.gate.set()
    queue = CaptureQueue(sink, give_up_s=0.2)
    queue.submit(_pending("a"))
    assert queue.flush(timeout=30)  # given up: counted as failed
    sink.failing = False
    queue.submit(_pending("b"))
    assert queue.flush(timeout=30)
    stats = queue.close()
    assert (stats.failed_rows, stats.captured_rows) == (2, 2) and sink.written == ["b"]


def test_mlflow_rewrite_of_our_error_message_is_undone():
    """MLflow's scoring server prefixes the whole parsed request to a predict error's message."""
    pytest.importorskip("mlflow")
    from mlflow_steward._compat.mlflow.scoring_server import MAX_MESSAGE, ModelFailed, RequestRefused

    error = RequestRefused("column 'x' expects a number (or null), got 'abc' (str) in row 0")
    error.message = f"Failed to predict data '{'y' * 10_000_000}'. \nError: {error.message}"
    assert error.message == "column 'x' expects a number (or null), got 'abc' (str) in row 0"
    body = json.loads(error.serialize_as_json())
    assert error.get_http_status_code() == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "stack_trace" not in body and len(error.serialize_as_json()) < 400
    failed = ModelFailed("z" * 5000)
    assert failed.get_http_status_code() == 500 and len(failed.message) == MAX_MESSAGE
