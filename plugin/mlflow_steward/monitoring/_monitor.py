"""``monitor_drift``: what ``steward drift`` does, end to end.

Resolve the registered model, load its reference profile, read the window (a file, read and scored
part by part so a large file never sits in memory whole, or captured inferences with their
predictions), check, and log a run.
Every input is checked before anything is written: a bad model, file, window or config raises
:class:`~mlflow_steward.exceptions.StewardInputError` and leaves no run behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._build import check_columns, profile_parts
from mlflow_steward.monitoring._config import DriftConfig
from mlflow_steward.monitoring._drift import check_drift
from mlflow_steward.monitoring._log import log_drift_run
from mlflow_steward.monitoring._model import ModelRef, load_profile, resolve_model
from mlflow_steward.monitoring._profile import Profile
from mlflow_steward.monitoring._result import DriftResult
from mlflow_steward.monitoring._source import BATCH_ROWS, capture_window, iter_table, parquet_rows, table_columns

ONE_SOURCE = "give exactly one of --data FILE or --capture URI"
WINDOW_NEEDS_CAPTURE = "--since, --until and --last select captured rows: use them with --capture"


@dataclass(frozen=True)
class DriftRun:
    """What :func:`monitor_drift` did: the result, the run it logged (if any), the model and the window."""

    result: DriftResult
    run_id: str | None
    model: ModelRef
    window: str
    profile_source: str


class _Predictor:
    """The registered model's outputs on a part of a batch (for prediction drift), loaded on first use."""

    def __init__(self, model: ModelRef, profile: Profile) -> None:
        self.model, self.profile, self.loaded = model, profile, None

    def __call__(self, frame: pd.DataFrame) -> tuple[Any, Any]:
        import mlflow

        if self.loaded is None:
            self.loaded = mlflow.pyfunc.load_model(self.model.uri)
        predictions = np.asarray(self.loaded.predict(frame))
        probabilities = None
        if self.profile.classes and any(c.name.startswith("probability/") for c in self.profile.outputs):
            wrapper = self.loaded.unwrap_python_model()
            if hasattr(wrapper, "predict_proba"):
                probabilities = pd.DataFrame(wrapper.predict_proba(frame), columns=[str(c) for c in wrapper.classes_])
        return predictions, probabilities


def monitor_drift(
    model: str,
    *,
    data: str | Path | None = None,
    capture: str | None = None,
    since: Any = None,
    until: Any = None,
    last_n: int | None = None,
    config: DriftConfig | Mapping[str, Any] | None = None,
    experiment: str | None = None,
    predict: bool = True,
    log: bool = True,
    echo: Callable[[str], None] | None = None,
) -> DriftRun:
    """Check a registered model's inputs (and outputs) in a batch file or a capture window for drift.

    ``model``: ``NAME`` (its ``production`` alias), ``NAME@ALIAS`` or ``NAME/VERSION``. ``data``: a
    CSV/Parquet batch (scored by the model when ``predict``, for prediction drift). ``capture``: a
    capture store (today a SQLite file, ``sqlite:///path`` or a path) with ``since``/``until``
    (ISO 8601, naive = UTC) and/or the ``last_n`` rows. The run goes to ``experiment`` (default
    ``steward-monitoring/<model name>``) unless ``log`` is False.
    """
    say = echo or (lambda _text: None)
    config = config if isinstance(config, DriftConfig) else DriftConfig.from_dict(config)
    if (data is None) == (capture is None):
        raise StewardInputError(ONE_SOURCE)
    if capture is None and (since is not None or until is not None or last_n is not None):
        raise StewardInputError(WINDOW_NEEDS_CAPTURE)
    ref = resolve_model(model)
    profile = load_profile(ref)
    say(f"reference: {ref.describe()}, profile from {profile.source} ({profile.rows:,} rows)")
    ignore = [ref.target] if ref.target else []
    extra: tuple[str, ...] = ()
    if data is not None:
        source = f"data file {data}"
        columns = table_columns(data)
        check_columns(columns, profile, source=source)
        predictor = _Predictor(ref, profile) if predict and config.predictions and profile.outputs else None
        rows = parquet_rows(data)
        parts = iter_table(data, batch_rows=BATCH_ROWS)
        window_profile, extra = profile_parts(parts, profile, predict=predictor, source=source,
                                              total_parts=None if rows is None else -(-rows // BATCH_ROWS),
                                              n_jobs=config.n_jobs, progress=config.progress)  # fmt: skip
        frame: pd.DataFrame | Profile = window_profile
        predictions = probabilities = None
        window = f"file {data} ({window_profile.rows:,} rows)"
        times: tuple[str | None, str | None] = (None, None)
    else:
        captured = capture_window(capture, since=since, until=until, last_n=last_n, model_name=ref.name)
        frame, predictions, probabilities = captured.features, captured.predictions, captured.probabilities
        source = f"capture {capture}"
        times = (captured.first, captured.last)
        window = (f"capture {capture}: {len(frame):,} rows in {captured.requests:,} requests, "
                  f"{captured.first} .. {captured.last}")  # fmt: skip
        if captured.skipped_other_models:
            window += f" ({captured.skipped_other_models:,} rows of other models skipped)"
    say(f"window: {window}")
    details = {"model": ref.describe(), "uri": ref.uri}
    result = check_drift(profile, frame, predictions=predictions, probabilities=probabilities, config=config,
                         model=details, ignore_columns=ignore, extra_columns=extra, source=source)  # fmt: skip
    run_id = None
    if log:
        params = {"model_uri": ref.uri, "window": window, "profile": profile.source, "since": since, "until": until,
                  "last_n": last_n, "config": config.to_dict()}  # fmt: skip
        run_id = log_drift_run(result, model_name=ref.name, model_version=ref.version, experiment=experiment,
                               params={k: v for k, v in params.items() if v is not None}, window=times)  # fmt: skip
    return DriftRun(result=result, run_id=run_id, model=ref, window=window, profile_source=profile.source)

