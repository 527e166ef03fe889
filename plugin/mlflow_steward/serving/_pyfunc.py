"""The pyfunc wrapper every model of ours is logged as: validate, predict, capture.

:class:`StewardModel` holds nothing fitted when it is logged (MLflow pickles it with cloudpickle):
the fitted scikit-learn pipeline is a model artifact saved with skops and loaded in
:meth:`StewardModel.load_context` with the explicit list of trusted types recorded at log time
(or with cloudpickle when the model could not be saved with skops; ``steward.json`` says which).

Capture is on when ``STEWARD_CAPTURE_PATH`` is set in the serving process, or when the model config
(given at log time, at ``mlflow.pyfunc.load_model(..., model_config=...)`` or through MLflow's
``SERVING_MODEL_CONFIG`` environment variable) has ``capture_path``; the environment variable wins.
Its value is a capture URI (a SQLite file, ``parquet:<directory>`` or a SQLAlchemy URL, see
``_sinks``). Captures go through a bounded queue to a writer thread (``_capture_queue``): a slow
sink never delays a prediction.

Errors: a request the model cannot take is refused with HTTP 400 whose message names the column
and quotes at most a short prefix of the value; anything else that fails inside the model is a 500
without a stack trace in the body (the trace goes to the server log). See
``_compat.mlflow.scoring_server``.

The model name and version written on captured rows come, in this order, from the model config
(``model_name``/``model_version``), from ``STEWARD_MODEL_NAME``/``STEWARD_MODEL_VERSION``, from the
registered model the server was started with (``mlflow models serve -m models:/NAME@production``:
MLflow records the name and the version the alias pointed to in the downloaded copy), or from the
registry at load time: the versions whose run and logged-model id are this model's (one match
needed). Every row also carries the model's ``model_id`` and ``run_id``, which always identify it.

The request id of a call is the ``request_id`` inference parameter when the caller sends one
(``{"dataframe_split": ..., "params": {"request_id": "..."}}``, so labels can be joined later),
else the request id of MLflow's prediction context when one is set, else a new uuid4.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np

from mlflow_steward import names
from mlflow_steward._compat.mlflow import UnwrappedPredict, scoring_server
from mlflow_steward._compat.mlflow.scoring_server import ModelFailed, RequestRefused
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import _metrics
from mlflow_steward.serving._capture import (
    STATUS_ANSWERED,
    STATUS_TIMED_OUT,
    ModelIdentity,
    PendingCapture,
    utc_timestamp,
)
from mlflow_steward.serving._capture_queue import DEFAULT_MAX_ROWS, CaptureQueue, close_all
from mlflow_steward.serving._sinks import open_sink
from mlflow_steward.serving._validation import FeatureSchema, quote, validate_frame
from mlflow_steward.serving._plan import load_predictor

logger = logging.getLogger(__name__)

NOT_LOADED = "StewardModel has no fitted pipeline yet: load it with mlflow.pyfunc.load_model(model_uri)"
NO_PROBA = "the model is not a classifier with predict_proba ({estimator}); probabilities are not available"
PREDICT_FAILED = "the model could not score the input: {error}"
MODEL_FAILED = "the model failed on this request ({error}); the server log has the details"
BAD_REQUEST_ID = "params.request_id must be a text of at most {limit} characters, got {value}"
MAX_REQUEST_ID = 256
ERROR_TEXT_LIMIT = 300
UNKNOWN_SERIALIZATION = "steward.json: unknown serialization {value!r}; expected 'skops' or 'cloudpickle'"
REGISTRY_TIMEOUT_S = 10.0

#: True while :func:`log_pipeline_model` logs a model: MLflow then loads it to check the input
#: example, and those rows are not inferences to capture.
CAPTURE_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar("steward_capture_suppressed", default=False)


def load_pipeline(path: str | Path, manifest: dict[str, Any]) -> Any:
    """Load the fitted pipeline saved next to ``manifest`` (skops with its trusted types, or cloudpickle)."""
    serialization = manifest.get("serialization")
    if serialization == "skops":
        import skops.io as sio

        return sio.load(path, trusted=list(manifest.get("trusted_types", [])))
    if serialization == "cloudpickle":
        import cloudpickle

        with open(path, "rb") as handle:
            return cloudpickle.load(handle)
    raise StewardInputError(UNKNOWN_SERIALIZATION.format(value=serialization))


def _model_dir(artifact_path: str) -> Path:
    """``<model>/artifacts/<file>`` -> ``<model>``."""
    return Path(artifact_path).resolve().parent.parent


def _logged_ids(model_dir: Path) -> tuple[str | None, str | None]:
    try:
        from mlflow.models import Model

        meta = Model.load(str(model_dir / "MLmodel"))
    except Exception as exc:  # an unusual copy of the model: capture still works without ids
        logger.warning("cannot read %s/MLmodel for the model's ids: %s", model_dir, exc)
        return None, None
    return getattr(meta, "model_id", None), getattr(meta, "run_id", None)


def _registry_configured() -> bool:
    """Whether a tracking/registry URI was given: without one, a lookup would create a store in the cwd."""
    if os.environ.get("MLFLOW_TRACKING_URI") or os.environ.get("MLFLOW_REGISTRY_URI"):
        return True
    return bool(mlflow.is_tracking_uri_set())


def _registry_lookup(model_id: str | None, run_id: str | None, name: str | None) -> tuple[str | None, str | None]:
    """The single registered version of this logged model (optionally under ``name``), else (name, None)."""
    if run_id is None or not _registry_configured():
        return name, None
    client = mlflow.MlflowClient()
    found = client.search_model_versions(f"run_id = '{run_id}'")
    matches = [
        v for v in found
        if (name is None or v.name == name) and (model_id is None or getattr(v, "model_id", None) in (None, model_id))
    ]  # fmt: skip
    if len(matches) != 1:
        if matches:
            logger.warning(
                "model is registered %d times (%s); set %s/%s to say which one captured rows belong to",
                len(matches), ", ".join(f"{v.name} v{v.version}" for v in matches),
                names.ENV_MODEL_NAME, names.ENV_MODEL_VERSION,
            )  # fmt: skip
        return name, None
    return matches[0].name, str(matches[0].version)


def resolve_identity(
    config: dict[str, Any], model_id: str | None, run_id: str | None, model_dir: str | Path | None = None
) -> ModelIdentity:
    """Model name/version for captured rows: model config, then environment, then the registered
    model the copy in ``model_dir`` was downloaded as, then the registry."""
    name = config.get(names.MODEL_CONFIG_MODEL_NAME) or os.environ.get(names.ENV_MODEL_NAME) or None
    version = config.get(names.MODEL_CONFIG_MODEL_VERSION) or os.environ.get(names.ENV_MODEL_VERSION) or None
    if version is None and model_dir is not None:
        served_name, served_version = scoring_server.registered_identity(model_dir)
        if served_version is not None and (name is None or name == served_name):
            name, version = served_name, served_version
    if version is None:
        result: dict[str, tuple[str | None, str | None]] = {}

        def lookup() -> None:
            try:
                result["found"] = _registry_lookup(model_id, run_id, name)
            except Exception as exc:  # no registry reachable: ids still identify the model
                logger.warning("cannot resolve the registered model version for capture: %s", exc)

        worker = threading.Thread(target=lookup, daemon=True, name="steward-registry-lookup")
        worker.start()
        worker.join(REGISTRY_TIMEOUT_S)
        if "found" in result:
            name, version = result["found"]
    return ModelIdentity(
        name=name, version=None if version is None else str(version), model_id=model_id, run_id=run_id
    )


def _capture_path(config: dict[str, Any]) -> str | None:
    return os.environ.get(names.ENV_CAPTURE_PATH) or config.get(names.MODEL_CONFIG_CAPTURE_PATH) or None


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, text, default)
        return default


def open_capture(uri: str) -> CaptureQueue:
    """The capture queue for ``uri``, sized by ``STEWARD_CAPTURE_QUEUE_ROWS`` (and, for Parquet,
    ``STEWARD_CAPTURE_BATCH_SECONDS``)."""
    batch = os.environ.get(names.ENV_CAPTURE_BATCH_SECONDS)
    sink = open_sink(uri, batch_wait_s=None if not batch else _env_number(names.ENV_CAPTURE_BATCH_SECONDS, 2.0))
    return CaptureQueue(sink, max_rows=int(_env_number(names.ENV_CAPTURE_QUEUE_ROWS, DEFAULT_MAX_ROWS)))


def _short(exc: BaseException) -> str:
    text = f"{exc}" or type(exc).__name__
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "..."


def _ensure_server_log() -> None:
    """Inside ``mlflow models serve`` nothing configures logging: show our INFO lines (capture
    summaries) on stderr, like MLflow's own, unless the application configured handlers."""
    package = logging.getLogger(__name__.split(".")[0])
    if not package.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        package.addHandler(handler)
        package.setLevel(logging.INFO)


class StewardModel(UnwrappedPredict, mlflow.pyfunc.PythonModel):
    """Validate the request frame, predict with the fitted pipeline, capture the scored rows.

    After loading: ``pipeline`` is the fitted scikit-learn pipeline, ``schema`` the expected
    columns, ``capture`` the :class:`~mlflow_steward.serving.CaptureQueue` (or None). Classifiers
    also offer :meth:`predict_proba` and ``classes_`` (reach them with
    ``mlflow.pyfunc.load_model(uri).unwrap_python_model()``).
    """

    # No type hints on ``predict``, on purpose: MLflow would infer a signature from them and accept only
    # the ``inputs`` payload form. ``UnwrappedPredict`` (MLflow's private switch, in _compat.mlflow) keeps
    # MLflow from wrapping it and from advising to add hints, which a caller cannot filter.

    def __init__(self) -> None:
        self.pipeline: Any = None
        self.schema: FeatureSchema | None = None
        self.capture: CaptureQueue | None = None
        self.identity = ModelIdentity()
        self.manifest: dict[str, Any] = {}
        self.request_timeout_s: float | None = None
        self._flush_at_shutdown = False  # the scoring server's shutdown handler is registered
        self.predictor: Any = None  # the fast path (serving._plan.FastPlan) or the pipeline itself
        self.fast_path: Any = None  # serving._plan.FastPathStatus: on/off and why
        self.metrics: Any = None  # serving._metrics.ServingMetrics inside mlflow models serve (or None)

    def __getstate__(self) -> dict[str, Any]:  # stateless when pickled: the fitted pipeline is an artifact
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def load_context(self, context) -> None:
        manifest_path = context.artifacts[names.MODEL_ARTIFACT_MANIFEST]
        self.manifest = json.loads(Path(manifest_path).read_text())
        self.schema = FeatureSchema.from_dict(self.manifest["features"])
        self.pipeline = load_pipeline(context.artifacts[names.MODEL_ARTIFACT_PIPELINE], self.manifest)
        config = dict(context.model_config or {})
        self.predictor, self.fast_path = load_predictor(self.pipeline, self.schema.columns, config)
        uri = _capture_path(config)
        model_dir = _model_dir(manifest_path)
        if uri and not CAPTURE_SUPPRESSED.get():
            model_id, run_id = _logged_ids(model_dir)
            self.identity = resolve_identity(config, model_id, run_id, model_dir)
            self.capture = open_capture(uri)
            if scoring_server.in_scoring_server():
                _ensure_server_log()
                scoring_server.watch_request_start()
                self.request_timeout_s = scoring_server.request_timeout_s()
                self._flush_at_shutdown = None  # registered at the first request: the app exists then
            logger.info(
                "inference capture to %s (model %s version %s, model id %s)", self.capture.sink.name,
                self.identity.name, self.identity.version, self.identity.model_id,
            )  # fmt: skip
        if scoring_server.in_scoring_server() and not CAPTURE_SUPPRESSED.get():
            self._start_metrics(config, model_dir)

    def _start_metrics(self, config: dict[str, Any], model_dir: Path) -> None:
        """Prometheus metrics of this worker (``_metrics``): on unless ``STEWARD_METRICS=0``."""
        identity = self.identity
        if identity.name is None and identity.version is None:  # capture off: the cheap sources only
            name, version = scoring_server.registered_identity(model_dir)
            model_id, _ = _logged_ids(model_dir)
            identity = ModelIdentity(
                name=config.get(names.MODEL_CONFIG_MODEL_NAME) or os.environ.get(names.ENV_MODEL_NAME) or name,
                version=config.get(names.MODEL_CONFIG_MODEL_VERSION) or os.environ.get(names.ENV_MODEL_VERSION) or version,
                model_id=model_id,
            )  # fmt: skip
        fast = "on" if getattr(self.fast_path, "enabled", False) else "off"
        self.metrics = _metrics.start(identity, fast, scoring_server.add_route)
        if self.metrics is not None:
            _ensure_server_log()
            scoring_server.watch_request_start()
            scoring_server.on_request(self.metrics.begin, self.metrics.end)

    # -- predicting ----------------------------------------------------------------------------
    def _frame(self, model_input: Any):
        if self.pipeline is None or self.schema is None:
            raise ModelFailed(NOT_LOADED)
        try:
            return validate_frame(model_input, self.schema)
        except StewardInputError as exc:
            _metrics.note_rejection(_metrics.validation_reason(str(exc)))
            raise RequestRefused(str(exc)) from None
        except Exception as exc:  # a bug of ours: a 500 that says so, the trace in the server log
            logger.exception("request validation failed unexpectedly")
            raise ModelFailed(MODEL_FAILED.format(error=f"{type(exc).__name__}: {_short(exc)}")) from None

    def predict(self, context, model_input, params=None):
        started = time.monotonic()
        frame = self._frame(model_input)
        request_id = _request_id(params) if self.capture is not None or params else None
        try:
            predictions = self._predictor.predict(frame)
        except (ValueError, TypeError) as exc:  # scikit-learn and our cleaning refuse bad input so
            _metrics.note_rejection(_metrics.REASON_MODEL_REFUSED)
            raise RequestRefused(PREDICT_FAILED.format(error=_short(exc))) from None
        except Exception as exc:
            logger.exception("the model failed on a request")
            raise ModelFailed(MODEL_FAILED.format(error=f"{type(exc).__name__}: {_short(exc)}")) from None
        if self.capture is not None:
            self._capture(frame, predictions, request_id, started)
        if self.metrics is not None:
            self.metrics.prediction(time.monotonic() - started)
            _metrics.note_rows(len(frame))
        return predictions

    def _capture(self, frame, predictions, request_id: str, started: float) -> None:
        """Hand the scored rows to the capture queue: references only, never blocking."""
        try:
            if self._flush_at_shutdown is None:
                self._flush_at_shutdown = scoring_server.on_server_shutdown(close_all) or None
            status = STATUS_ANSWERED
            timeout = self.request_timeout_s
            if timeout is not None and time.monotonic() - scoring_server.request_started(started) >= timeout:
                status = STATUS_TIMED_OUT  # the scoring server has already answered 504
            probabilities = classes = None
            if self.manifest.get("task") == "classification" and hasattr(self.pipeline, "predict_proba"):
                predictor = self._predictor  # the fast path when on (the same probabilities)
                probabilities, classes = (lambda: predictor.predict_proba(frame)), self.classes_
            self.capture.submit(
                PendingCapture(
                    frame=frame, predictions=predictions, request_id=request_id, identity=self.identity,
                    timestamp=utc_timestamp(), status=status, probabilities=probabilities, classes=classes,
                )
            )  # fmt: skip
        except Exception as exc:  # never fail a prediction because of capture
            logger.warning("inference capture skipped: %s: %s", type(exc).__name__, exc)

    def predict_proba(self, model_input) -> np.ndarray:
        """Class probabilities (columns in the order of ``classes_``) for a validated frame."""
        if self.pipeline is not None and not hasattr(self.pipeline, "predict_proba"):
            raise RequestRefused(NO_PROBA.format(estimator=type(self.pipeline).__name__))
        frame = self._frame(model_input)
        return self._predictor.predict_proba(frame)

    @property
    def _predictor(self) -> Any:
        return self.pipeline if self.predictor is None else self.predictor

    @property
    def classes_(self) -> np.ndarray:
        """The classifier's classes (AttributeError for a regressor, as in scikit-learn)."""
        classes = getattr(self.pipeline, "classes_", None)
        if classes is None:
            raise AttributeError("classes_: the model is not a fitted classifier")
        return classes


def _request_id(params: dict[str, Any] | None) -> str:
    given = (params or {}).get(names.PARAM_REQUEST_ID)
    if given is not None and given != "":
        if isinstance(given, bool) or not isinstance(given, (str, int)) or len(str(given)) > MAX_REQUEST_ID:
            _metrics.note_rejection(_metrics.REASON_BAD_REQUEST_ID)
            raise RequestRefused(BAD_REQUEST_ID.format(limit=MAX_REQUEST_ID, value=quote(given)))
        return str(given)
    return scoring_server.prediction_request_id() or uuid.uuid4().hex
