"""How ``mlflow server`` runs an ``mlflow.app`` (the steward pages); re-check on MLflow upgrades.

* the environment ``mlflow server`` hands its workers (store URIs, artifacts destination, static
  prefix, which server runs the app): private variable names of ``mlflow.server``
  (:func:`server_environment`);
* MLflow's own Flask app, and what the running server expects back (:func:`mlflow_flask_app`,
  :func:`serve`);
* composing basic-auth (``mlflow.server.auth``): its ``create_app`` adds a Flask
  ``before_request`` hook (``auth._before_request``) that authenticates every request and then
  refuses (fail-closed) any path it has no permission rule for. Our pages are such paths, and they
  authorize per model themselves, so for ``/steward/`` paths that one hook is replaced by a guard
  that authenticates with the same configured function and stops there; every other path keeps
  MLflow's hook unchanged. Which models a user may read comes from the auth app's own predicate
  (``auth._rm_or_prompt_read_predicate``: role grants, default permission, workspaces), the one
  MLflow uses to filter ``search_registered_models``.

Imports MLflow and Flask only inside its functions; each symbol is in ``PRIVATE_API``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mlflow_steward._compat.mlflow._api import MissingInternal

if TYPE_CHECKING:
    from flask import Flask

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


@dataclass(frozen=True)
class ServerEnvironment:
    """What ``mlflow server`` tells its workers (all empty outside a server)."""

    backend_store_uri: str = ""
    registry_store_uri: str = ""  # the backend store when not given separately
    artifacts_destination: str = ""
    static_prefix: str = ""  # ``--static-prefix``, without a trailing slash


def server_environment(env: Mapping[str, str] | None = None) -> ServerEnvironment:
    """Read the worker environment ``mlflow server`` sets (``os.environ`` by default)."""
    env = os.environ if env is None else env
    backend = env.get(BACKEND_STORE_ENV) or ""
    return ServerEnvironment(
        backend_store_uri=backend,
        registry_store_uri=env.get(REGISTRY_STORE_ENV) or backend,
        artifacts_destination=env.get(ARTIFACTS_DESTINATION_ENV) or "",
        static_prefix=(env.get(STATIC_PREFIX_ENV) or "").rstrip("/"),
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

    Returns what ``mlflow.server.auth.create_app`` returns (a FastAPI app under uvicorn); raises
    :class:`MissingInternal` (:data:`AUTH_HOOK_MISSING`) when MLflow's hook is not where expected.
    """
    import mlflow
    from mlflow.server import auth

    result = auth.create_app(flask_app)
    hooks = flask_app.before_request_funcs.setdefault(None, [])
    original = getattr(auth, "_before_request", None)
    if original is None or original not in hooks:
        raise MissingInternal(AUTH_HOOK_MISSING.format(version=mlflow.__version__))

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
