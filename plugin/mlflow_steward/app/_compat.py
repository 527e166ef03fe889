"""The one place the server page touches MLflow server internals (re-check on MLflow upgrades).

* the environment ``mlflow server`` hands its workers (store URIs, artifacts destination, static
  prefix, which server runs the app): private variable names of ``mlflow.server``;
* artifacts behind ``mlflow-artifacts:/`` URIs: inside the server they live under
  ``--artifacts-destination`` (a client outside resolves them over HTTP, which a worker must not
  do to itself);
* composing basic-auth (``mlflow.server.auth``): its ``create_app`` adds a Flask
  ``before_request`` hook that authenticates every request and then refuses (fail-closed) any path
  it has no permission rule for. Our pages are such paths, and they authorize per model
  themselves, so for ``/steward/`` paths that one hook is replaced by a guard that authenticates
  with the same configured function and stops there; every other path keeps MLflow's hook
  unchanged. Which models a user may read comes from the auth app's own predicate (role grants,
  default permission, workspaces), the one MLflow uses to filter ``search_registered_models``.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlparse

if TYPE_CHECKING:
    from flask import Flask
    from mlflow import MlflowClient

STATIC_PREFIX_ENV = "_MLFLOW_STATIC_PREFIX"  # mlflow.server.handlers.STATIC_PREFIX_ENV_VAR
BACKEND_STORE_ENV = "_MLFLOW_SERVER_FILE_STORE"  # mlflow.server.constants.BACKEND_STORE_URI_ENV_VAR
REGISTRY_STORE_ENV = "_MLFLOW_SERVER_REGISTRY_STORE"  # ... REGISTRY_STORE_URI_ENV_VAR
ARTIFACTS_DESTINATION_ENV = "_MLFLOW_SERVER_ARTIFACT_DESTINATION"  # ... ARTIFACTS_DESTINATION_ENV_VAR
SGI_NAME_ENV = "_MLFLOW_SGI_NAME"  # mlflow.environment_variables._MLFLOW_SGI_NAME: uvicorn | gunicorn | waitress
USER_ATTRIBUTE = "steward_user"  # flask.g attribute set by the guard

AUTH_HOOK_MISSING = (
    "mlflow.server.auth.create_app no longer registers the before_request hook "
    "mlflow_steward.app knows (mlflow {version}): the steward pages cannot compose basic-auth"
)


def mlflow_flask_app() -> Flask:
    """MLflow's own Flask app (importing ``mlflow.server`` builds it with all its routes)."""
    from mlflow.server import app

    return app


def serve(flask_app: Flask) -> Any:
    """What ``mlflow server`` should run without auth: the FastAPI wrapper under uvicorn (MLflow's
    default server), the Flask app itself under gunicorn or waitress."""
    if os.environ.get(SGI_NAME_ENV) == "uvicorn":
        from mlflow.server.fastapi_app import create_fastapi_app

        return create_fastapi_app(flask_app)
    return flask_app


def compose_basic_auth(flask_app: Flask, is_steward_path: Callable[[str], bool]) -> Any:
    """Enable MLflow's basic-auth on ``flask_app`` and let our guard answer for ``/steward/`` paths.

    Returns what ``mlflow.server.auth.create_app`` returns (a FastAPI app under uvicorn).
    """
    import mlflow
    from mlflow.server import auth

    result = auth.create_app(flask_app)
    hooks = flask_app.before_request_funcs.setdefault(None, [])
    original = getattr(auth, "_before_request", None)
    if original is None or original not in hooks:
        from mlflow_steward.exceptions import StewardError

        raise StewardError(AUTH_HOOK_MISSING.format(version=mlflow.__version__))

    def before_request() -> Any:
        from flask import request

        if is_steward_path(request.path):
            return _guard()
        return original()

    before_request.__name__ = "steward_or_mlflow_auth_before_request"
    hooks[hooks.index(original)] = before_request
    return result


def _guard() -> Any:
    """Authenticate with the auth app's configured function: its 401 response, or the user in ``g``."""
    from flask import Response, g
    from mlflow.server import auth

    authorization = auth.authenticate_request()
    if isinstance(authorization, Response):
        return authorization
    setattr(g, USER_ATTRIBUTE, authorization.username)
    return None


def current_user() -> str | None:
    """The user our guard authenticated for this request (None when the app runs open)."""
    from flask import g

    return getattr(g, USER_ATTRIBUTE, None)


def model_read_predicate(username: str) -> Callable[[Any], bool]:
    """``p(registered_model) -> bool``: may ``username`` read it (admins read everything)."""
    from mlflow.server import auth

    if auth.store.get_user(username).is_admin:
        return lambda _model: True
    return auth._rm_or_prompt_read_predicate(username)


# --- the client and artifacts inside the server ------------------------------------------------
def server_client() -> MlflowClient:
    """An MlflowClient on the server's own stores (outside a server: the default URIs)."""
    backend = os.environ.get(BACKEND_STORE_ENV)
    registry = os.environ.get(REGISTRY_STORE_ENV) or backend
    return ServerClient(tracking_uri=backend, registry_uri=registry) if backend else ServerClient()


def local_artifact_uri(artifact_uri: str) -> str:
    """``mlflow-artifacts:/1/abc/artifacts`` -> ``<--artifacts-destination>/1/abc/artifacts`` inside the
    server; any other URI unchanged."""
    destination = os.environ.get(ARTIFACTS_DESTINATION_ENV)
    if not artifact_uri.startswith("mlflow-artifacts:") or not destination:
        return artifact_uri
    return f"{destination.rstrip('/')}/{urlparse(artifact_uri).path.lstrip('/')}"


class _ArtifactMemo:
    """Small artifacts already read (a gate decision, a history), by (run or root, path): the
    records our pages read are written once, when their run is made, and never rewritten."""

    def __init__(self, size: int = 256, largest: int = 1 << 20):
        import collections
        import threading

        self.size, self.largest = size, largest
        self._items: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[str, str], data: bytes) -> None:
        if len(data) > self.largest:
            return
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_MEMO = _ArtifactMemo()


def read_artifact_text(client: MlflowClient, artifact_uri: str, path: str) -> str:
    """The text of artifact ``path`` of the run whose artifact root is ``artifact_uri`` (memoised).

    Local roots (``file:`` or a path, also behind ``mlflow-artifacts:`` inside the server) are read
    in place; others are downloaded to a temporary directory."""
    cached = _MEMO.get((artifact_uri, path))
    if cached is not None:
        return cached.decode("utf-8")
    text = _read_artifact_text(client, artifact_uri, path)
    _MEMO.put((artifact_uri, path), text.encode("utf-8"))
    return text


def _read_artifact_text(client: MlflowClient, artifact_uri: str, path: str) -> str:
    import tempfile
    from pathlib import Path

    resolved = local_artifact_uri(artifact_uri)
    parsed = urlparse(resolved)
    if parsed.scheme in ("", "file"):
        from urllib.request import url2pathname

        root = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(resolved)
        return (root / path).read_text()
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="steward-app-") as tmp:
        if resolved.startswith("mlflow-artifacts:"):  # outside a server: through the tracking server
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{resolved}/{path}", dst_path=tmp, tracking_uri=client.tracking_uri
            )
        else:
            local = mlflow.artifacts.download_artifacts(artifact_uri=f"{resolved}/{path}", dst_path=tmp)
        return Path(local).read_text()


@functools.lru_cache(maxsize=1)
def _server_client_class() -> type:
    from mlflow import MlflowClient

    class _ServerClient(MlflowClient):
        """``download_artifacts`` also works inside the server for proxied (``mlflow-artifacts:``) runs."""

        def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
            from pathlib import Path

            cached = _MEMO.get((run_id, path))
            if cached is not None and dst_path is not None:  # a file read before (e.g. a history)
                local = Path(dst_path) / path
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(cached)
                return str(local)
            local = self._download(run_id, path, dst_path)
            if Path(local).is_file():
                _MEMO.put((run_id, path), Path(local).read_bytes())
            return local

        def _download(self, run_id: str, path: str, dst_path: str | None) -> str:
            artifact_uri = self.get_run(run_id).info.artifact_uri
            if artifact_uri.startswith("mlflow-artifacts:") and os.environ.get(ARTIFACTS_DESTINATION_ENV):
                import mlflow.artifacts

                return mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{local_artifact_uri(artifact_uri)}/{path}", dst_path=dst_path
                )
            return super().download_artifacts(run_id, path, dst_path)

    return _ServerClient


def ServerClient(**kwargs: Any) -> MlflowClient:  # noqa: N802 - behaves like the class it builds
    return _server_client_class()(**kwargs)
