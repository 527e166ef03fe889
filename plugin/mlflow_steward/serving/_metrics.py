"""Prometheus metrics of a served model, summed over every worker of ``mlflow models serve --workers N``.

MLflow's scoring server has no ``/metrics``; a model of ours adds one, on the same host and port
as ``/invocations`` (``_compat.mlflow.scoring_server.add_route``: a thread waits for MLflow's
FastAPI app to exist in the worker and adds the route). ``STEWARD_METRICS_PORT`` also serves them on a port of their own
(the first worker to bind it; ``STEWARD_METRICS_HOST``, default 127.0.0.1). ``STEWARD_METRICS=0``
turns them off.

**Several workers.** Each uvicorn worker is its own process, so the counts live in prometheus_client's
multiprocess mode: every worker writes its values to memory-mapped files in one directory
(``PROMETHEUS_MULTIPROC_DIR`` when set, else ``<tmp>/steward-metrics-<supervisor pid>``) and the worker
answering a scrape adds them up with a fresh ``MultiProcessCollector``. The directory is wiped when
a new server starts (the first worker of a server takes a file lock, sees another server's marker,
removes the old files); the live-worker gauges of workers that died are dropped at each scrape
(``mark_process_dead``) while their counters and histograms stay in the sums (what they counted
happened). Gauges say how they combine (``multiprocess_mode``).

Metrics (Prometheus conventions: counters end in ``_total``, durations are ``_seconds``, no request
ids as labels): :data:`METRICS`. Requests are counted where MLflow parses them (``invocations``), so a
body MLflow cannot parse counts too; a rejected request says why (``reason``: a fixed set,
:data:`REASONS`). Capture counts come from the worker's :class:`~._capture_queue.CaptureStats`.
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_steward import names

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENV_METRICS_HOST = "STEWARD_METRICS_HOST"
MARKER = ".steward-server"
LOCK = ".steward-lock"
SYNC_EVERY_S = 2.0
#: Latency buckets for millisecond models (seconds): 0.5 ms .. 10 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: name -> (type, help, label names). Counters are listed by their exposed name (``_total``).
METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "steward_requests_total": ("counter", "Requests to /invocations the scoring server worked on", ()),
    "steward_rows_scored_total": ("counter", "Rows predicted and answered (HTTP 200)", ()),
    "steward_requests_rejected_total": ("counter", "Requests answered 4xx, by reason", ("reason",)),
    "steward_requests_failed_total": ("counter", "Requests answered 5xx (the model or the server failed)", ()),
    "steward_request_duration_seconds": ("histogram", "Time on one /invocations request: parse, validate, predict, "
                                         "capture hand-off, serialise", ()),  # fmt: skip
    "steward_prediction_duration_seconds": ("histogram", "Time in the model: validate and predict one request", ()),
    "steward_capture_rows_total": ("counter", "Scored rows by capture outcome (captured, dropped: queue full, "
                                   "failed: the sink kept failing)", ("outcome",)),  # fmt: skip
    "steward_capture_timed_out_requests_total": ("counter", "Captured requests the scoring server had timed out", ()),
    "steward_capture_duplicate_ids_total": ("counter", "Captured requests reusing a request id", ()),
    "steward_capture_pending_rows": ("gauge", "Rows waiting to be written by the capture", ()),
    "steward_workers": ("gauge", "Live scoring-server workers", ()),
    "steward_model_info": ("gauge", "The served model (value 1)", ("model_name", "model_version", "model_id", "fast_path")),
}

REASON_UNPARSEABLE = "unparseable"  # MLflow could not read the body (JSON, CSV, fields)
REASON_MEDIA_TYPE = "unsupported_media_type"
REASON_MODEL_REFUSED = "model_refused"  # the estimator refused the validated frame
REASON_BAD_REQUEST_ID = "bad_request_id"
REASON_OTHER = "other"
#: Rejection reasons (a closed set): request validation's, then the rest.
REASONS = (
    "not_a_frame", "no_rows", "missing_columns", "duplicate_columns", "wrong_type", "not_finite",
    REASON_BAD_REQUEST_ID, REASON_MODEL_REFUSED, REASON_UNPARSEABLE, REASON_MEDIA_TYPE, REASON_OTHER,
)  # fmt: skip


def exported_names() -> set[str]:
    """Every series name a scrape can show (histograms as ``_bucket``/``_sum``/``_count``)."""
    out = set()
    for name, (kind, _, _) in METRICS.items():
        out |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if kind == "histogram" else {name}
    return out


def _template(message: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]*\}", message)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$", re.DOTALL)


def _validation_patterns() -> list[tuple[re.Pattern[str], str]]:
    from mlflow_steward.serving import _validation as v

    pairs = [(v.NOT_A_FRAME, "not_a_frame"), (v.NO_ROWS, "no_rows"), (v.MISSING_COLUMNS, "missing_columns"),
             (v.DUPLICATE_COLUMNS, "duplicate_columns"), (v.NOT_FINITE, "not_finite"), (v.NOT_NUMBER, "wrong_type"),
             (v.NOT_TEXT, "wrong_type"), (v.NOT_BOOLEAN, "wrong_type"), (v.NOT_DATETIME, "wrong_type")]  # fmt: skip
    return [(_template(message), reason) for message, reason in pairs]


_PATTERNS: list[tuple[re.Pattern[str], str]] | None = None


def validation_reason(message: str) -> str:
    """The reason of a request-validation message (its template), else ``other``."""
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = _validation_patterns()
    for pattern, reason in _PATTERNS:
        if pattern.match(message):
            return reason
    return REASON_OTHER


@dataclass
class RequestRecord:
    """What the model learnt about the current request (filled in by ``predict``)."""

    rows: int = 0
    reason: str | None = None


_CURRENT: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar("steward_metrics_request", default=None)


def note_rejection(reason: str) -> None:
    """The model refused the current request for ``reason`` (counted when the request ends)."""
    record = _CURRENT.get()
    if record is not None:
        record.reason = reason


def note_rows(rows: int) -> None:
    record = _CURRENT.get()
    if record is not None:
        record.rows = rows


# --- the multiprocess directory ------------------------------------------------------------------
def _process_start(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def server_id() -> str:
    """The scoring server this worker belongs to: its supervisor's pid and start time."""
    parent = os.getppid()
    return f"{parent}:{_process_start(parent)}"


def prepare_directory() -> Path:
    """The multiprocess directory of this server, wiped once per server start (see the module docstring)."""
    import fcntl

    given = os.environ.get(MULTIPROC_ENV)
    directory = Path(given) if given else Path(tempfile.gettempdir()) / f"steward-metrics-{os.getppid()}"
    directory.mkdir(parents=True, exist_ok=True)
    me = server_id()
    with open(directory / LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            marker = directory / MARKER
            if not marker.is_file() or marker.read_text() != me:
                for stale in directory.glob("*.db"):
                    with contextlib.suppress(FileNotFoundError):
                        stale.unlink()
                marker.write_text(me)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def _alive_sibling(pid: int) -> bool:
    """Whether ``pid`` is a live worker of this server (a reused pid of another process is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    parent = _parent(pid)
    return parent is None or pid == os.getpid() or parent in (os.getppid(), os.getpid())


def mark_dead_workers(directory: Path) -> list[int]:
    """``mark_process_dead`` for every worker whose live-gauge files remain but who is gone."""
    from prometheus_client import multiprocess

    dead = set()
    for path in glob.glob(str(directory / "gauge_live*_*.db")):
        try:
            pid = int(Path(path).stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if not _alive_sibling(pid):
            dead.add(pid)
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(directory))
    return sorted(dead)


# --- the metrics of one worker ---------------------------------------------------------------------
class ServingMetrics:
    """The metric objects of this worker process (values in the multiprocess files)."""

    def __init__(self, directory: Path) -> None:
        import prometheus_client.values as values
        from prometheus_client import Counter, Gauge, Histogram

        if not getattr(values.ValueClass, "_multiprocess", False):
            logger.warning("prometheus_client was imported before %s was set: metrics count this worker only", MULTIPROC_ENV)
        self.directory = directory

        def counter(name: str) -> Any:
            _, help_text, labels = METRICS[name]
            return Counter(name[: -len("_total")], help_text, labels, registry=None)

        def gauge(name: str, mode: str) -> Any:
            _, help_text, labels = METRICS[name]
            return Gauge(name, help_text, labels, registry=None, multiprocess_mode=mode)

        def histogram(name: str) -> Any:
            _, help_text, labels = METRICS[name]
            return Histogram(name, help_text, labels, registry=None, buckets=LATENCY_BUCKETS)

        self.requests = counter("steward_requests_total")
        self.rows = counter("steward_rows_scored_total")
        self.rejected = counter("steward_requests_rejected_total")
        self.failed = counter("steward_requests_failed_total")
        self.request_seconds = histogram("steward_request_duration_seconds")
        self.prediction_seconds = histogram("steward_prediction_duration_seconds")
        self.capture_rows = counter("steward_capture_rows_total")
        self.capture_timed_out = counter("steward_capture_timed_out_requests_total")
        self.capture_duplicates = counter("steward_capture_duplicate_ids_total")
        self.capture_pending = gauge("steward_capture_pending_rows", "livesum")
        self.workers = gauge("steward_workers", "livesum")
        self.info = gauge("steward_model_info", "livemax")
        self.workers.set(1)
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def describe_model(self, identity: Any, fast_path: str) -> None:
        self.info.labels(str(identity.name or ""), str(identity.version or ""), str(identity.model_id or ""),
                         fast_path).set(1)  # fmt: skip

    # requests ---------------------------------------------------------------------------------
    def begin(self) -> tuple[contextvars.Token, RequestRecord, float]:
        record = RequestRecord()
        return _CURRENT.set(record), record, time.perf_counter()

    def end(self, state: tuple[contextvars.Token, RequestRecord, float], status: int) -> None:
        token, record, started = state
        _CURRENT.reset(token)
        self.request_seconds.observe(time.perf_counter() - started)
        self.requests.inc()
        if 200 <= status < 300:
            self.rows.inc(record.rows)
        elif status == 415:
            self.rejected.labels(REASON_MEDIA_TYPE).inc()
        elif 400 <= status < 500:
            self.rejected.labels(record.reason or REASON_UNPARSEABLE).inc()
        elif status >= 500:
            self.failed.inc()
        self.sync_capture()

    def prediction(self, seconds: float) -> None:
        self.prediction_seconds.observe(seconds)

    # capture ----------------------------------------------------------------------------------
    def sync_capture(self) -> None:
        """Add what this worker's capture queues counted since the last sync."""
        from mlflow_steward.serving._capture_queue import capture_stats

        totals: dict[str, int] = {}
        for counts in capture_stats().values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        if not totals:
            return
        with self._lock:
            for key, outcome in (("captured_rows", "captured"), ("dropped_rows", "dropped"), ("failed_rows", "failed")):
                self._add(key, totals, lambda n, o=outcome: self.capture_rows.labels(o).inc(n))
            self._add("timed_out_requests", totals, self.capture_timed_out.inc)
            self._add("duplicate_ids", totals, self.capture_duplicates.inc)
            self.capture_pending.set(totals.get("pending_rows", 0))

    def _add(self, key: str, totals: dict[str, int], inc: Any) -> None:
        now = totals.get(key, 0)
        delta = now - self._seen.get(key, 0)
        if delta > 0:
            inc(delta)
        self._seen[key] = max(now, self._seen.get(key, 0))


def render(directory: Path | None = None) -> tuple[bytes, str]:
    """The text exposition of every worker's metrics (a fresh collector per scrape)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    directory = Path(directory or os.environ[MULTIPROC_ENV])
    if _ACTIVE is not None:
        _ACTIVE.sync_capture()
    mark_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry), CONTENT_TYPE_LATEST


_ACTIVE: ServingMetrics | None = None
_START_LOCK = threading.Lock()


def metrics_enabled() -> bool:
    return os.environ.get(names.ENV_METRICS, "1").strip().lower() not in ("0", "false", "off", "no")


def _sync_loop(metrics: ServingMetrics) -> None:
    while True:
        time.sleep(SYNC_EVERY_S)
        try:
            metrics.sync_capture()
        except Exception as exc:  # never let a metrics thread die noisily in the model server
            logger.debug("capture metrics sync failed: %s", exc)


def _serve_on_port(directory: Path) -> None:
    port = os.environ.get(names.ENV_METRICS_PORT)
    if not port:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    try:
        start_http_server(int(port), addr=os.environ.get(ENV_METRICS_HOST, "127.0.0.1"), registry=registry)
    except OSError:  # another worker of this server has the port
        return
    except ValueError:
        logger.warning("%s=%r is not a port number; metrics only on /metrics", names.ENV_METRICS_PORT, port)
        return
    logger.info("steward metrics also on port %s", port)


def start(identity: Any, fast_path: str, add_route: Any) -> ServingMetrics | None:
    """Turn metrics on in this worker (once): directory, metric objects, the ``/metrics`` route, the
    capture sync thread, the optional port. Returns None when off or when it cannot start (logged)."""
    global _ACTIVE
    if not metrics_enabled():
        return None
    with _START_LOCK:
        if _ACTIVE is not None:
            return _ACTIVE
        try:
            directory = prepare_directory()
            metrics = ServingMetrics(directory)
            metrics.describe_model(identity, fast_path)
        except Exception as exc:  # metrics must never stop a model from serving
            logger.warning("Prometheus metrics off: %s: %s", type(exc).__name__, exc)
            return None
        _ACTIVE = metrics

    def endpoint() -> Any:
        from starlette.responses import Response

        body, content_type = render(directory)
        return Response(content=body, media_type=content_type)

    add_route("/metrics", endpoint)
    threading.Thread(target=_sync_loop, args=(metrics,), daemon=True, name="steward-metrics-sync").start()
    _serve_on_port(directory)
    logger.info("Prometheus metrics on /metrics (%s)", directory)
    return metrics


def active() -> ServingMetrics | None:
    return _ACTIVE
