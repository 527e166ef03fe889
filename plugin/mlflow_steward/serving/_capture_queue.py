"""Capture off the request path: a bounded queue per process and one writer thread per sink.

A predict call only appends a :class:`~._capture.PendingCapture` (references, no copy) to the queue:
a lock and a counter, microseconds. The writer thread builds the records and writes them in batches
to the sink. A slow or locked sink therefore never delays a prediction: the queue absorbs up to
``max_rows`` scored rows, then further requests are dropped, counted and logged, and the prediction
is still returned. A batch that fails is retried (backing off) for up to ``give_up_s`` seconds and
then counted as failed. When the scoring server shuts down (its shutdown handler, see ``_compat.mlflow``),
or else at interpreter exit (``atexit``, and multiprocessing's exit hook for forked workers), the
queue is flushed for at most ``final_flush_s`` seconds and a summary line is logged:

    inference capture to <sink>: 1200 row(s) captured (400 request(s)), 0 dropped, 0 failed, 1 reused request id(s)

:class:`CaptureStats` holds the counts (rows captured, dropped because the queue was full, failed
after retries; requests whose id was already captured; requests that timed out) and can be read at
any time (:func:`capture_stats`), e.g. by a metrics exporter.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, fields
from typing import Any, Protocol

from mlflow_steward.serving._capture import STATUS_TIMED_OUT, CapturedRequest, PendingCapture

logger = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 100_000
DEFAULT_BATCH_ROWS = 20_000
DEFAULT_GIVE_UP_S = 300.0
DEFAULT_FINAL_FLUSH_S = 20.0
MAX_BACKOFF_S = 2.0

DROPPING = (
    "inference capture to {sink}: the queue is full ({limit} rows waiting to be written); dropping "
    "captures, predictions are still returned ({dropped} row(s) dropped so far)"
)
FAILING = "inference capture to {sink} failing, will retry; predictions are still returned: {error}"
RECOVERED = "inference capture to {sink} writes again after {seconds:.1f} s"
GAVE_UP = "inference capture to {sink}: gave up on {rows} row(s) after {seconds:.0f} s of failures: {error}"
SUMMARY = (
    "inference capture to {sink}: {captured_rows} row(s) captured ({captured_requests} request(s)), "
    "{dropped_rows} dropped, {failed_rows} failed, {duplicate_ids} reused request id(s), "
    "{timed_out_requests} timed-out request(s)"
)


class CaptureSink(Protocol):
    """Where captured requests go (see :mod:`._sinks`)."""

    name: str  # for messages: never a password
    batch_wait_s: float  # how long the writer may gather requests into one batch

    def write(self, requests: list[CapturedRequest]) -> int:
        """Store the requests (all or none); return how many reused an already captured id."""

    def close(self) -> None: ...


@dataclass
class CaptureStats:
    """Counts of one capture queue (rows unless named otherwise)."""

    captured_rows: int = 0
    captured_requests: int = 0
    dropped_rows: int = 0  # the queue was full
    dropped_requests: int = 0
    failed_rows: int = 0  # the sink kept failing (or the process exited before they were written)
    failed_requests: int = 0
    duplicate_ids: int = 0  # requests stored under an id that was already captured (attempt > 0)
    timed_out_requests: int = 0  # captured with status timed_out
    pending_rows: int = 0  # waiting in the queue or being written

    def snapshot(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def unwritten_rows(self) -> int:
        return self.dropped_rows + self.failed_rows


_LIVE: weakref.WeakSet[CaptureQueue] = weakref.WeakSet()


def capture_stats() -> dict[str, dict[str, int]]:
    """The counts of the capture queues of this process, by sink name (queues of one sink added up)."""
    totals: dict[str, dict[str, int]] = {}
    for queue in list(_LIVE):
        counts = totals.setdefault(queue.sink.name, dict.fromkeys(queue.stats.snapshot(), 0))
        for key, value in queue.stats.snapshot().items():
            counts[key] += value
    return totals


class CaptureQueue:
    """A bounded queue of pending captures and the thread that writes them to ``sink``."""

    def __init__(
        self,
        sink: CaptureSink,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        give_up_s: float = DEFAULT_GIVE_UP_S,
        final_flush_s: float = DEFAULT_FINAL_FLUSH_S,
    ) -> None:
        self.sink = sink
        self.max_rows = max(1, int(max_rows))
        self.batch_rows = max(1, int(batch_rows))
        self.give_up_s = float(give_up_s)
        self.final_flush_s = float(final_flush_s)
        self.stats = CaptureStats()
        self._reset()
        _LIVE.add(self)
        _register_exit_hooks()

    def _reset(self) -> None:
        """Fresh state for this process (also after a fork: the parent's queue is not ours)."""
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._items: deque[PendingCapture] = deque()
        self._in_flight = 0  # rows taken by the writer, not yet counted as captured or failed
        self._in_flight_requests = 0  # ... and the requests they belong to
        self._closing = False
        self._close_deadline = float("inf")
        self._closed = False
        self._dropping = False
        self._thread: threading.Thread | None = None
        self.stats = CaptureStats()

    # -- the request path ------------------------------------------------------------------------
    def submit(self, pending: PendingCapture) -> bool:
        """Queue one request's capture; False (counted, logged) when the queue is full or closed."""
        if self._pid != os.getpid():
            self._reset()
        n_rows = pending.n_rows
        announce = False
        with self._cond:
            stats = self.stats
            full = self._closing or (stats.pending_rows + n_rows > self.max_rows and stats.pending_rows > 0)
            if full:
                stats.dropped_rows += n_rows
                stats.dropped_requests += 1
                announce, self._dropping = not self._dropping, True
                dropped = stats.dropped_rows
            else:
                self._dropping = False
                self._items.append(pending)
                stats.pending_rows += n_rows
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="steward-capture-writer", daemon=True)
                    self._thread.start()
                self._cond.notify_all()
        if announce:  # logged outside the lock: a prediction never waits on a log handler
            logger.warning(DROPPING.format(sink=self.sink.name, limit=self.max_rows, dropped=dropped))
        return not full

    # -- the writer thread -----------------------------------------------------------------------
    def _take_batch(self) -> list[PendingCapture] | None:
        with self._cond:
            while not self._items and not self._closing:
                self._cond.wait()
            if not self._items:
                return None
            wait = self.sink.batch_wait_s
            if wait > 0 and not self._closing:  # let a batch gather (Parquet: fewer, larger files)
                deadline = time.monotonic() + wait
                while not self._closing and self.stats.pending_rows - self._in_flight < self.batch_rows:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch, rows = [], 0
            while self._items and (not batch or rows + self._items[0].n_rows <= self.batch_rows):
                item = self._items.popleft()
                batch.append(item)
                rows += item.n_rows
            self._in_flight, self._in_flight_requests = rows, len(batch)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            self._write(batch)

    def _build(self, batch: list[PendingCapture]) -> list[tuple[PendingCapture, CapturedRequest]]:
        built = []
        for item in batch:
            try:
                built.append((item, item.build()))
            except Exception as exc:  # a record we cannot build is counted, never retried
                logger.warning("inference capture skipped a request: %s: %s", type(exc).__name__, exc)
                self._finish([item], captured=False)
        return built

    def _write(self, batch: list[PendingCapture]) -> None:
        built = self._build(batch)
        if not built:
            return
        items, records = [item for item, _ in built], [record for _, record in built]
        first_failure: float | None = None
        attempt = 0
        while True:
            try:
                duplicates = self.sink.write(records)
            except Exception as exc:
                now = time.monotonic()
                error = f"{type(exc).__name__}: {str(exc)[:500]}"
                if first_failure is None:
                    first_failure = now
                    logger.warning(FAILING.format(sink=self.sink.name, error=error))
                if now - first_failure >= self.give_up_s or (self._closing and now >= self._close_deadline):
                    rows = sum(item.n_rows for item in items)
                    logger.error(GAVE_UP.format(sink=self.sink.name, rows=rows, seconds=now - first_failure, error=error))
                    self._finish(items, captured=False)
                    return
                attempt += 1
                time.sleep(min(MAX_BACKOFF_S, 0.05 * 2**attempt))
                continue
            if first_failure is not None:
                logger.warning(RECOVERED.format(sink=self.sink.name, seconds=time.monotonic() - first_failure))
            self._finish(items, captured=True, duplicates=duplicates)
            return

    def _finish(self, items: list[PendingCapture], *, captured: bool, duplicates: int = 0) -> None:
        rows = sum(item.n_rows for item in items)
        with self._cond:
            stats = self.stats
            if self._closed:  # close() already counted everything left as failed
                return
            if captured:
                stats.captured_rows += rows
                stats.captured_requests += len(items)
                stats.duplicate_ids += duplicates
                stats.timed_out_requests += sum(item.status == STATUS_TIMED_OUT for item in items)
            else:
                stats.failed_rows += rows
                stats.failed_requests += len(items)
            stats.pending_rows -= rows
            self._in_flight = max(0, self._in_flight - rows)
            self._in_flight_requests = max(0, self._in_flight_requests - len(items))
            self._cond.notify_all()

    # -- flushing and shutdown -------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written (or failed); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self.stats.pending_rows > 0:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> CaptureStats:
        """Write what is queued (for at most ``timeout`` s, default ``final_flush_s``), stop, log the counts."""
        if self._pid != os.getpid():
            return self.stats
        timeout = self.final_flush_s if timeout is None else timeout
        with self._cond:
            if self._closed:
                return self.stats
            self._closing = True
            self._close_deadline = time.monotonic() + timeout
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(max(0.0, timeout))
        with self._cond:
            stats = self.stats
            if stats.pending_rows > 0:  # the sink never took them before the deadline
                left = list(self._items)
                stats.failed_rows += stats.pending_rows
                stats.failed_requests += len(left) + self._in_flight_requests
                logger.error(
                    GAVE_UP.format(sink=self.sink.name, rows=stats.pending_rows, seconds=timeout, error="exiting")
                )
                stats.pending_rows = 0
                self._items.clear()
            self._closed = True
        try:
            self.sink.close()
        except Exception as exc:  # closing a broken connection at exit
            logger.debug("closing capture sink %s: %s", self.sink.name, exc)
        level = logging.WARNING if stats.unwritten_rows else logging.INFO
        logger.log(level, SUMMARY.format(sink=self.sink.name, **stats.snapshot()))
        return stats


_HOOKS_REGISTERED: int | None = None


def close_all() -> None:
    """Flush and close every capture queue of this process (at exit, at server shutdown)."""
    for queue in list(_LIVE):
        try:
            queue.close()
        except Exception as exc:  # never raise at interpreter exit
            logger.error("inference capture could not flush at exit: %s", exc)


def _register_exit_hooks() -> None:
    """``atexit`` (normal exit), and multiprocessing's exit hook, which forked workers run instead."""
    global _HOOKS_REGISTERED
    if _HOOKS_REGISTERED == os.getpid():
        return
    _HOOKS_REGISTERED = os.getpid()
    atexit.register(close_all)
    try:
        from multiprocessing import util

        util.Finalize(None, close_all, exitpriority=100)
    except Exception as exc:  # pragma: no cover - multiprocessing is always there on CPython
        logger.debug("no multiprocessing exit hook: %s", exc)


def describe(stats: CaptureStats | dict[str, Any]) -> str:
    """The summary line for ``stats`` (without the sink name)."""
    values = stats.snapshot() if isinstance(stats, CaptureStats) else stats
    return SUMMARY.format(sink="", **values).split(": ", 1)[1]
