"""How MLflow's scoring server (``mlflow models serve``) and model download behave internally.

Used by ``serving``'s wrapper, so it travels inside every logged model: it imports MLflow and the
standard library only. Each symbol is in ``PRIVATE_API`` (the package doc). Re-check on MLflow
upgrades (verified on 3.17.2, ``mlflow/pyfunc/scoring_server/__init__.py``):

* ``invocations()`` catches an :class:`~mlflow.exceptions.MlflowException` from ``model.predict`` and
  rewrites its ``message`` to ``f"Failed to predict data '{data}'. \\nError: {message}"``: the whole
  parsed request (a 10 MB cell gives a 10 MB error). :class:`RequestRefused` keeps its own message.
  Any other exception becomes a 400 whose body carries the Python stack trace, so the model raises
  only :class:`RequestRefused` (4xx) or :class:`ModelFailed` (500, no trace) from ``predict``.
* ``invocations()`` (parsing, predicting and serialising one request) runs in a worker thread, after
  the body was read; the ``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`` middleware answers 504 when the
  whole request takes longer, and the thread keeps running. :func:`request_started` tells the model
  when ``invocations()`` started, through a wrapper installed by :func:`watch_request_start`.
* ``uvicorn`` (0.29+) answers SIGTERM with a graceful shutdown and then re-raises the signal with the
  default handler, so ``atexit`` never runs in a served worker. The FastAPI app MLflow builds
  (``mlflow.pyfunc.scoring_server.app.app``, default lifespan) runs ``app.router.on_shutdown``
  handlers after the last request; :func:`on_server_shutdown` adds one (the capture's final flush).
  The list is read at shutdown, so adding to it at the first request is in time.
* The FastAPI app exists only once ``mlflow.pyfunc.scoring_server.app`` has loaded the model (our
  ``load_context`` runs while that module is being imported, before ``init()`` returns the app), and
  uvicorn starts serving it after the import. :func:`add_route` therefore waits in a thread for the
  module's ``app`` attribute and adds a GET route to it (FastAPI's router reads its route list per
  request, so a route added before the first request is served like MLflow's own); used for
  ``/metrics`` (``_metrics``). :func:`on_request` adds begin/end hooks around ``invocations()``
  (the wrapper of :func:`watch_request_start`), which sees every request MLflow parsed and its HTTP
  status (its ``InvocationsResponse.status``, or the status of the ``MlflowException`` it raised).
* ``mlflow models serve -m models:/NAME@alias`` (and ``load_model`` of such a URI) downloads the model
  and writes ``registered_model_meta`` (YAML: ``model_name``, ``model_version``) into its directory:
  the registered identity the server was started with (:func:`registered_identity`).
* The scoring server keeps each request's context (its ``request_id``) in
  ``mlflow.pyfunc.context`` (undocumented): :func:`prediction_request_id`.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE

logger = logging.getLogger(__name__)

#: The longest message an error response carries (the bad value itself is already cut short).
MAX_MESSAGE = 1000
_MLFLOW_PREFIX = "Failed to predict data '"
_SCORING_SERVER = "mlflow.pyfunc.scoring_server"
_SCORING_APP = "mlflow.pyfunc.scoring_server.app"
_SERVER_MODEL_PATH = "__pyfunc_model_path__"  # scoring_server._SERVER_MODEL_PATH: set in every worker
REQUEST_TIMEOUT_ENV = "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT"
DEFAULT_REQUEST_TIMEOUT_S = 60.0  # MLflow's default for REQUEST_TIMEOUT_ENV
REGISTERED_MODEL_META = "registered_model_meta"  # models_artifact_repo.REGISTERED_MODEL_META_FILE_NAME


def _bounded(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


class _OwnMessage(MlflowException):
    """An MLflow error whose message stays ours: MLflow's rewrite with the whole request is dropped."""

    _error_code = INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        self._own = _bounded(message)
        super().__init__(self._own, error_code=self._error_code)

    @property
    def message(self) -> str:
        return self._own

    @message.setter
    def message(self, value: str) -> None:
        value = str(value)
        if value.startswith(_MLFLOW_PREFIX) and value.endswith(self._own):
            return  # the scoring server's "Failed to predict data '<the whole request>'" prefix
        self._own = _bounded(value)


class RequestRefused(_OwnMessage):
    """HTTP 400 (``INVALID_PARAMETER_VALUE``): the request is not what the model expects."""

    _error_code = INVALID_PARAMETER_VALUE


class ModelFailed(_OwnMessage):
    """HTTP 500 without a stack trace in the body (the trace goes to the server log)."""


# --- when did MLflow start working on this request? --------------------------------------------
_REQUEST_STARTED: contextvars.ContextVar[float | None] = contextvars.ContextVar("steward_request_started", default=None)


def in_scoring_server() -> bool:
    """True inside ``mlflow models serve`` (the scoring server module is loaded and names a model)."""
    return _SCORING_SERVER in sys.modules and bool(os.environ.get(_SERVER_MODEL_PATH))


def request_timeout_s() -> float | None:
    """The scoring server's per-request timeout (seconds), or None outside the scoring server."""
    if not in_scoring_server():
        return None
    try:
        return float(os.environ.get(REQUEST_TIMEOUT_ENV) or DEFAULT_REQUEST_TIMEOUT_S)
    except ValueError:
        return DEFAULT_REQUEST_TIMEOUT_S


def watch_request_start() -> bool:
    """Wrap the scoring server's ``invocations`` (once per process) to record when each request
    started being parsed; True when installed. A no-op outside ``mlflow models serve``."""
    if not in_scoring_server():
        return False
    module = sys.modules[_SCORING_SERVER]
    original = getattr(module, "invocations", None)
    if original is None:
        logger.warning("MLflow's scoring server has no invocations(): timed-out requests are judged from predict time")
        return False
    if getattr(original, "_steward_timed", False):
        return True

    @functools.wraps(original)
    def invocations(*args: Any, **kwargs: Any) -> Any:
        token = _REQUEST_STARTED.set(time.monotonic())
        hooks = list(_REQUEST_HOOKS)
        states = [begin() for begin, _ in hooks]
        status = 500
        try:
            result = original(*args, **kwargs)
            status = int(getattr(result, "status", 200))
            return result
        except MlflowException as exc:
            status = int(exc.get_http_status_code())
            raise
        finally:
            for (_, end), state in zip(hooks, states):
                try:
                    end(state, status)
                except Exception as exc:  # a hook must never fail a request
                    logger.debug("request hook failed: %s", exc)
            _REQUEST_STARTED.reset(token)

    invocations._steward_timed = True  # type: ignore[attr-defined]
    module.invocations = invocations
    return True


_REQUEST_HOOKS: list[tuple[Any, Any]] = []
ADD_ROUTE_WAIT_S = 300.0


def on_request(begin, end) -> None:
    """Call ``state = begin()`` before and ``end(state, http_status)`` after each ``invocations()``
    (install the wrapper with :func:`watch_request_start`)."""
    if (begin, end) not in _REQUEST_HOOKS:
        _REQUEST_HOOKS.append((begin, end))


def add_route(path: str, endpoint, *, wait_s: float = ADD_ROUTE_WAIT_S) -> bool:
    """Add a GET ``path`` to the scoring server's app as soon as the app exists (a daemon thread
    polls for it); False outside ``mlflow models serve``."""
    if not in_scoring_server():
        return False

    def install() -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            app = getattr(sys.modules.get(_SCORING_APP), "app", None)
            if app is not None and hasattr(app, "add_api_route"):
                if not any(getattr(route, "path", None) == path for route in app.router.routes):
                    app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
                return
            time.sleep(0.005)
        logger.warning("MLflow's scoring server app did not appear within %.0f s: no %s route", wait_s, path)

    threading.Thread(target=install, daemon=True, name=f"steward-route{path.replace('/', '-')}").start()
    return True


def on_server_shutdown(callback) -> bool:
    """Run ``callback()`` when the scoring server shuts down gracefully (after its last request);
    True when registered (idempotent). False outside the scoring server or before its app exists."""
    app = getattr(sys.modules.get(_SCORING_APP), "app", None)
    handlers = getattr(getattr(app, "router", None), "on_shutdown", None)
    if not isinstance(handlers, list):
        return False
    if callback not in handlers:
        handlers.append(callback)
    return True


def request_started(default: float) -> float:
    """``time.monotonic()`` when MLflow started this request (parsing included), else ``default``."""
    started = _REQUEST_STARTED.get()
    return default if started is None else started


# --- which registered model is this copy? ------------------------------------------------------
def registered_identity(model_dir: str | Path) -> tuple[str | None, str | None]:
    """``(name, version)`` MLflow recorded when it downloaded ``models:/NAME@alias`` or ``/VERSION``."""
    path = Path(model_dir) / REGISTERED_MODEL_META
    if not path.is_file():
        return None, None
    try:
        import yaml

        meta = yaml.safe_load(path.read_text()) or {}
    except Exception as exc:  # a damaged file: the registry lookup still applies
        logger.warning("cannot read %s: %s", path, exc)
        return None, None
    name, version = meta.get("model_name"), meta.get("model_version")
    return (str(name) if name else None), (str(version) if version not in (None, "") else None)


# --- which request is this? ----------------------------------------------------------------------
def prediction_request_id() -> str | None:
    """The request id MLflow's scoring server gave the request being predicted, or None."""
    try:
        from mlflow.pyfunc.context import get_prediction_context
    except ImportError:  # pragma: no cover - older MLflow
        return None
    context = get_prediction_context()
    request_id = getattr(context, "request_id", None) if context is not None else None
    return str(request_id) if request_id else None
