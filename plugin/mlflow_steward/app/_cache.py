"""What a server worker keeps between page views: runs that are done never change.

Gate runs and monitor runs are written once and then terminated. ``search_runs`` turns every metric,
tag and parameter of every run it returns into an object, so reading 1,000 monitor runs of 80
metrics costs seconds, while asking for the few that ended since the last look costs milliseconds.
:class:`RunCache` keeps, per query key, the converted runs it has read: the first look is a full
bounded search, every later one adds only the runs whose ``end_time`` is after the previous look
(minus ``overlap`` seconds, for clocks that differ between machines and runs that ended while the
previous search ran). A run still running is kept as read and replaced once it ends. A run deleted
later stays until the server restarts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from mlflow.entities import Run

T = TypeVar("T")
#: ``search(ended_since_ms or None, max_results) -> runs``: None asks for everything (newest first).
Search = Callable[[int | None, int], "list[Run]"]
INCREMENT = 5000  # runs one incremental look may return before the cache reads afresh


class RunCache(Generic[T]):
    """Per key, the runs read so far (converted by ``convert``), topped up on every call."""

    def __init__(self, convert: Callable[[Run], T], *, overlap: float = 300.0, clock: Callable[[], float] = time.time):
        self.convert = convert
        self.overlap = overlap
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[threading.Lock, dict[str, tuple[float, T]], list[float]]] = {}

    def _entry(self, key: str) -> tuple[threading.Lock, dict[str, tuple[float, T]], list[float]]:
        with self._lock:
            return self._keys.setdefault(key, (threading.Lock(), {}, []))

    def seen(self, key: str) -> bool:
        """Whether ``key`` was read in full already."""
        return bool(self._entry(key)[2])

    def get(self, key: str, search: Search, *, limit: int) -> list[T]:
        """The newest ``limit`` runs of ``key``, oldest first (by start time)."""
        lock, known, looked = self._entry(key)
        with lock:
            now = self._clock()
            if looked:
                runs = search(int((looked[0] - self.overlap) * 1000), INCREMENT)
                if len(runs) >= INCREMENT:  # more ended meanwhile than one look returns: read afresh
                    known.clear()
                    runs = search(None, limit)
            else:
                runs = search(None, limit)
            for run in runs:
                known[run.info.run_id] = ((run.info.start_time or 0) / 1000.0, self.convert(run))
            looked[:] = [now]
            ordered = sorted(known.values(), key=lambda pair: pair[0])
            return [item for _, item in ordered[-limit:]] if limit > 0 else []


def _identity(run: Run) -> Run:
    return run


@dataclass
class ServerCache:
    """The caches one server worker keeps: monitor windows and gate runs, per model."""

    windows: RunCache = field(default_factory=lambda: RunCache(_window))
    gates: RunCache = field(default_factory=lambda: RunCache(_identity))


def _window(run: Run):
    from mlflow_steward.app._monitor_source import window_from_run

    return window_from_run(run)
