"""Monitor runs (issues 13 and 14), read for the model page and the models list.

The records the pages expect, one MLflow run per checked time window:

=========== ==================================================================================
experiment  ``steward-monitoring/<model name>``
tags        ``steward.step = monitor``, ``steward.model_name``, ``steward.model_version``,
            ``steward.window_start`` / ``steward.window_end`` (ISO 8601, UTC),
            ``steward.monitor_state`` = ``healthy`` | ``drift`` | ``performance``
metrics     ``drift/<column>/<check>`` with ``_ci_low``/``_ci_high`` twins (check: ``psi``,
            ``missing_rate``, ``mean_shift``, ...) and ``drift/<column>/<check>_alarm`` = 1 when it
            alarmed; ``live/<metric>`` with its interval twins and ``live/<metric>_alarm``
            (``live/accuracy_estimate``: estimated from the model's probabilities before labels);
            ``live/n_labels``. Per-slice live metrics (``live_slice/...``) are not read here.
=========== ==================================================================================

Every name of the layout is defined once, in :mod:`mlflow_steward.names` (``steward drift`` and
``steward monitor`` write with the same names); :func:`window_from_run` is the only place that
parses them. Windows are read with one bounded ``search_runs`` (newest first), never one call per
run. A window checked again (``steward monitor`` re-checks a window when late labels arrive) has
several runs: the newest one stands for it.

A window's run is written once, so the server keeps the windows it has read (``_cache``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.app._records import MonitorWindow, Point, epoch

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

    from mlflow_steward.app._cache import RunCache

# Every name of the layout is defined once, in ``names`` (the monitor writes with the same names).
DRIFT_PREFIX = names.DRIFT_METRIC_PREFIX
LIVE_PREFIX = names.LIVE_METRIC_PREFIX
ALARM_SUFFIX = names.ALARM_SUFFIX
LABELS_METRIC = names.LIVE_LABELS_METRIC


def experiment_name(model: str) -> str:
    return names.monitoring_experiment(model)


def _runs(client: MlflowClient, model: str, max_results: int, ended_since_ms: int | None = None) -> list[Run]:
    from mlflow_steward.app._registry_source import quote

    experiment = client.get_experiment_by_name(experiment_name(model))
    if experiment is None or max_results <= 0:
        return []
    where = f"tags.`{names.TAG_MODEL_NAME}` = '{quote(model)}'"
    if ended_since_ms is not None:
        where += f" AND attributes.end_time >= {int(ended_since_ms)}"
    return list(
        client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=where,
            order_by=["attributes.start_time DESC"],
            max_results=max_results,
        )
    )


def read_windows(
    client: MlflowClient, model: str, *, max_windows: int, cache: RunCache | None = None
) -> tuple[MonitorWindow, ...]:
    """The newest ``max_windows`` monitor windows of ``model``, oldest first (() when none)."""
    if cache is None:
        windows = [window_from_run(run) for run in _runs(client, model, max_windows)]
    else:
        windows = cache.get(model, lambda since, n: _runs(client, model, n, since), limit=max_windows)
    return tuple(sorted(newest_per_window(windows), key=lambda w: w.end))


def newest_per_window(windows) -> list[MonitorWindow]:
    """One run per time window: the newest check of it (late labels make a window be checked again)."""
    newest: dict[tuple, MonitorWindow] = {}
    for window in windows:
        key = (window.version, window.start, window.end) if window.start is not None else (window.run_id,)
        if key not in newest or window.checked > newest[key].checked:
            newest[key] = window
    return list(newest.values())


def latest_window(client: MlflowClient, model: str, cache: RunCache | None = None) -> MonitorWindow | None:
    """The newest window (from the cache once the model was read in full there)."""
    if cache is not None and cache.seen(model):
        found = read_windows(client, model, max_windows=1, cache=cache)
    else:
        found = tuple(window_from_run(run) for run in _runs(client, model, 1))
    return found[-1] if found else None


def monitored_models(client: MlflowClient) -> list[str]:
    """Names of the models that have a monitoring experiment (one search)."""
    prefix = names.MONITORING_EXPERIMENT_PREFIX
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}%'", max_results=1000)
    return [e.name[len(prefix):] for e in found if e.name.startswith(prefix)]


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
        start=epoch(tags.get(names.TAG_WINDOW_START)),
        end=epoch(tags.get(names.TAG_WINDOW_END)) or started,
        state=tags.get(names.TAG_MONITOR_STATE, ""),
        drift=drift,
        live=live,
        labels=None if labels is None else int(labels),
        checked=started,
    )
