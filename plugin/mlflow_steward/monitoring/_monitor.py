"""``monitor_drift``: what ``steward drift`` does, end to end.

Resolve the registered model, load its reference profile, read the window (a file, scored by the
model for prediction drift, or captured inferences with their predictions), check, and log a run.
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
from mlflow_steward.monitoring._build import validate_window
from mlflow_steward.monitoring._config import DriftConfig
from mlflow_steward.monitoring._drift import check_drift
from mlflow_steward.monitoring._log import log_drift_run
from mlflow_steward.monitoring._model import ModelRef, load_profile, resolve_model
from mlflow_steward.monitoring._profile import FEATURE, Profile
from mlflow_steward.monitoring._result import DriftResult
from mlflow_steward.monitoring._source import capture_window, read_table

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


def _predict(model: ModelRef, frame: pd.DataFrame, profile: Profile) -> tuple[Any, Any]:
    """The model's outputs on a batch (for prediction drift), in the shape the profile recorded."""
    import mlflow

    loaded = mlflow.pyfunc.load_model(model.uri)
    predictions = np.asarray(loaded.predict(frame))
    probabilities = None
    if profile.classes and any(c.name.startswith("probability/") for c in profile.outputs):
        wrapper = loaded.unwrap_python_model()
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
    if data is not None:
        frame = read_table(data)
        window = f"file {data} ({len(frame):,} rows)"
        source = f"data file {data}"
        validate_window(frame, profile, source=source)
        predictions = probabilities = None
        if predict and config.predictions and profile.outputs:
            predictions, probabilities = _predict(ref, frame[list(profile.names(FEATURE))], profile)
    else:
        captured = capture_window(capture, since=since, until=until, last_n=last_n, model_name=ref.name)
        frame, predictions, probabilities = captured.features, captured.predictions, captured.probabilities
        source = f"capture {capture}"
        window = (f"capture {capture}: {len(frame):,} rows in {captured.requests:,} requests, "
                  f"{captured.first} .. {captured.last}")  # fmt: skip
        if captured.skipped_other_models:
            window += f" ({captured.skipped_other_models:,} rows of other models skipped)"
    say(f"window: {window}")
    details = {"model": ref.describe(), "uri": ref.uri}
    result = check_drift(profile, frame, predictions=predictions, probabilities=probabilities, config=config,
                         model=details, ignore_columns=ignore, source=source)  # fmt: skip
    run_id = None
    if log:
        params = {"model_uri": ref.uri, "window": window, "profile": profile.source, "since": since, "until": until,
                  "last_n": last_n, "config": config.to_dict()}  # fmt: skip
        run_id = log_drift_run(result, model_name=ref.name, model_version=ref.version, experiment=experiment,
                               params={k: v for k, v in params.items() if v is not None})  # fmt: skip
    return DriftRun(result=result, run_id=run_id, model=ref, window=window, profile_source=profile.source)

