"""Serving metrics without a server: naming conventions, rejection reasons from the validation
messages, the multiprocess directory (wiped per server, kept within one), dead workers' gauges dropped
while their counters stay in the sums (real processes writing the files)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import prometheus_client.values  # noqa: F401  (chosen now, with PROMETHEUS_MULTIPROC_DIR unset: a test
import pytest  # that sets it must not switch this process's value class for the tests after it)

from mlflow_steward.serving import _metrics, _validation


def test_metric_names_follow_prometheus_conventions():
    for name, (kind, help_text, labels) in _metrics.METRICS.items():
        assert name.startswith("steward_") and help_text
        assert name.endswith("_total") == (kind == "counter"), name
        if kind == "histogram":
            assert name.endswith("_seconds")
        assert not {"request_id", "row"} & set(labels)  # unbounded values never become labels
    assert "steward_request_duration_seconds_bucket" in _metrics.exported_names()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (_validation.MISSING_COLUMNS.format(missing="'a'", expected="a, b"), "missing_columns"),
        (_validation.NOT_FINITE.format(column="x", value="inf", type="float", row=3), "not_finite"),
        (_validation.NOT_NUMBER.format(column="x", value="'abc'", type="str", row=0), "wrong_type"),
        (_validation.NO_ROWS, "no_rows"),
        ("something else entirely", "other"),
    ],
)
def test_rejection_reason_from_the_validation_message(message, reason):
    assert _metrics.validation_reason(message) == reason
    assert reason in _metrics.REASONS


def test_directory_is_wiped_for_a_new_server_only(tmp_path, monkeypatch):
    monkeypatch.setenv(_metrics.MULTIPROC_ENV, str(tmp_path))
    (tmp_path / "counter_1.db").write_bytes(b"old")
    (tmp_path / _metrics.MARKER).write_text("another-server:1")
    assert _metrics.prepare_directory() == tmp_path
    assert not (tmp_path / "counter_1.db").exists()  # another server's files: wiped
    (tmp_path / "counter_2.db").write_bytes(b"this server's")
    _metrics.prepare_directory()  # a second worker of the same server
    assert (tmp_path / "counter_2.db").exists()


WORKER = textwrap.dedent(
    """
    import sys
    from mlflow_steward.serving import _metrics
    from mlflow_steward.serving._capture import ModelIdentity
    metrics = _metrics.ServingMetrics(_metrics.prepare_directory())
    metrics.describe_model(ModelIdentity(name="house", version="3"), "on")
    for _ in range(int(sys.argv[1])):
        metrics.end(metrics.begin(), 200)
    print("done", flush=True)
    if sys.argv[2] == "wait":
        sys.stdin.read()
    """
)


def _worker(directory, requests: int, wait: bool) -> subprocess.Popen:
    env = {**os.environ, _metrics.MULTIPROC_ENV: str(directory)}
    process = subprocess.Popen([sys.executable, "-c", WORKER, str(requests), "wait" if wait else "exit"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout.readline().strip() == "done"
    return process


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_render_sums_workers_and_drops_dead_workers_live_gauges(tmp_path, monkeypatch):
    monkeypatch.setenv(_metrics.MULTIPROC_ENV, str(tmp_path))
    alive = _worker(tmp_path, 3, wait=True)
    gone = _worker(tmp_path, 4, wait=False)
    gone.wait(30)
    try:
        body, content_type = _metrics.render(tmp_path)
        samples = _samples(body.decode())
        assert content_type.startswith("text/plain")
        assert samples["steward_requests_total"] == 7  # the dead worker's counts stay in the sum
        assert samples["steward_workers"] == 1  # its live gauge is gone
        assert not list(tmp_path.glob(f"gauge_live*_{gone.pid}.db"))
        assert list(tmp_path.glob(f"counter_{gone.pid}.db"))
        assert samples['steward_model_info{fast_path="on",model_id="",model_name="house",model_version="3"}'] == 1
    finally:
        alive.stdin.close()
        alive.wait(30)
