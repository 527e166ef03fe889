"""Monitor runs (issues 13 and 14), read for the model page and the models list.

The records the pages expect, one MLflow run per checked time window:

=========== ==================================================================================
experiment  ``steward-monitoring/<model name>``
tags        ``steward.step = monitor``, ``steward.model_name``, ``steward.model_version``,
            ``steward.window_start`` / ``steward.window_end`` (ISO 8601, UTC),
            ``steward.monitor_state`` = ``healthy`` | ``drift`` | ``performance``
metrics     ``drift/<column>/<check>`` with ``_ci_low``/``_ci_high`` twins (check: ``psi``,
            ``missing_rate``, ``mean_shift``, ...) and ``drift/<column>/<check>_alarm`` = 1 when it
            alarmed; ``live/<metric>`` with its interval twins; ``live/n_labels``
=========== ==================================================================================

This module is the only place that knows that layout: when the monitor writes other names, change
:func:`window_from_run` (and the constants) and nothing else. Windows are read with one bounded
``search_runs`` (newest first), never one call per run.

A window's run is written once and finished, so the server keeps the windows it has read
(:class:`WindowCache`): after the first read of a model, a page asks the store only for runs that
finished since its last look. That matters because ``search_runs`` turns every metric of every run
into an object: 1,000 windows of 80 metrics cost seconds, a handful of new ones milliseconds.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.app._records import MonitorWindow, Point, epoch

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

MONITOR_EXPERIMENT = "steward-monitoring/{name}"
STEP_MONITOR = "monitor"
TAG_WINDOW_START = "steward.window_start"
TAG_WINDOW_END = "steward.window_end"
TAG_MONITOR_STATE = "steward.monitor_state"
DRIFT_PREFIX = "drift/"
LIVE_PREFIX = "live/"
ALARM_SUFFIX = "_alarm"
LABELS_METRIC = "live/n_labels"
_INCREMENT = 5000  # runs fetched by one incremental look


def experiment_name(model: str) -> str:
    return MONITOR_EXPERIMENT.format(name=model)


def _runs(client: MlflowClient, model: str, max_results: int, *, finished_since_ms: int | None = None) -> list[Run]:
    from mlflow_steward.app._registry_source import quote

    experiment = client.get_experiment_by_name(experiment_name(model))
    if experiment is None or max_results <= 0:
        return []
    where = f"tags.`{names.TAG_MODEL_NAME}` = '{quote(model)}'"
    if finished_since_ms is not None:
        where += f" AND attributes.status = 'FINISHED' AND attributes.end_time >= {int(finished_since_ms)}"
    return list(
        client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=where,
            order_by=["attributes.start_time DESC"],
            max_results=max_results,
        )
    )


def read_windows(client: MlflowClient, model: str, *, max_windows: int) -> tuple[MonitorWindow, ...]:
    """The newest ``max_windows`` monitor windows of ``model``, oldest first (() when none)."""
    windows = [window_from_run(run) for run in _runs(client, model, max_windows)]
    return tuple(sorted(windows, key=lambda w: w.end))


def latest_window(client: MlflowClient, model: str) -> MonitorWindow | None:
    runs = _runs(client, model, 1)
    return window_from_run(runs[0]) if runs else None


def window_from_run(run: Run) -> MonitorWindow:
    tags, metrics = run.data.tags, run.data.metrics
    drift: dict[tuple[str, str], Point] = {}
    live: dict[str, Point] = {}
    for key, value in metrics.items():
        if key.endswith((names.CI_LOW_SUFFIX, names.CI_HIGH_SUFFIX, ALARM_SUFFIX)) or key == LABELS_METRIC:
            continue
        if key.startswith(DRIFT_PREFIX):
            parts = key[len(DRIFT_PREFIX):].split("/")
            if len(parts) == 2:
                drift[(parts[0], parts[1])] = Point(
                    value, metrics.get(names.ci_low(key)), metrics.get(names.ci_high(key)),
                    alarm=bool(metrics.get(key + ALARM_SUFFIX, 0.0)),
                )
        elif key.startswith(LIVE_PREFIX):
            live[key[len(LIVE_PREFIX):]] = Point(
                value, metrics.get(names.ci_low(key)), metrics.get(names.ci_high(key)),
                alarm=bool(metrics.get(key + ALARM_SUFFIX, 0.0)),
            )
    started = (run.info.start_time or 0) / 1000.0
    labels = metrics.get(LABELS_METRIC)
    return MonitorWindow(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        version=tags.get(names.TAG_MODEL_VERSION, ""),
        start=epoch(tags.get(TAG_WINDOW_START)),
        end=epoch(tags.get(TAG_WINDOW_END)) or started,
        state=tags.get(TAG_MONITOR_STATE, ""),
        drift=drift,
        live=live,
        labels=None if labels is None else int(labels),
    )


class WindowCache:
    """Per model, the finished windows already read; each call adds those finished since the last.

    ``overlap`` seconds of look-back cover clocks that differ between the monitor and the server
    and runs that finished while the previous search ran. A run deleted later stays in the cache
    until the server restarts. Thread-safe: one lock per model, so concurrent pages read once.
    """

    def __init__(self, *, overlap: float = 300.0, clock=time.time):
        self.overlap = overlap
        self._clock = clock
        self._lock = threading.Lock()
        self._models: dict[str, tuple[threading.Lock, dict[str, MonitorWindow], list[float]]] = {}

    def _entry(self, model: str):
        with self._lock:
            return self._models.setdefault(model, (threading.Lock(), {}, []))

    def windows(self, client: MlflowClient, model: str, *, max_windows: int) -> tuple[MonitorWindow, ...]:
        """Like :func:`read_windows` (newest ``max_windows``, oldest first), from the cache."""
        lock, known, checked = self._entry(model)
        with lock:
            now = self._clock()
            if not checked:
                runs = _runs(client, model, max_windows)
            else:
                since = (checked[0] - self.overlap) * 1000
                runs = _runs(client, model, _INCREMENT, finished_since_ms=since)
                if len(runs) >= _INCREMENT:  # more finished meanwhile than one look takes: read afresh
                    known.clear()
                    runs = _runs(client, model, max_windows)
            for run in runs:
                if run.info.status == "FINISHED" or not checked:
                    known[run.info.run_id] = window_from_run(run)
            checked[:] = [now]
            newest = sorted(known.values(), key=lambda w: w.end)[-max_windows:] if max_windows > 0 else []
            return tuple(newest)

    def latest(self, client: MlflowClient, model: str) -> MonitorWindow | None:
        lock, known, checked = self._entry(model)
        if not checked:  # never read in full: one run is enough for the list
            return latest_window(client, model)
        found = self.windows(client, model, max_windows=1)
        return found[-1] if found else None
