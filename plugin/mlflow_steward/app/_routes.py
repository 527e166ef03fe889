"""The Flask routes under ``/steward/``: parse the request, compute the page, render it. Read-only (GET)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from mlflow_steward._compat.mlflow import tracking_server
from mlflow_steward.app import _pages, _server_client, _views
from mlflow_steward.app._config import AppConfig
from mlflow_steward.app._html import STEWARD_ROOT, Links
from mlflow_steward.app._cache import ServerCache
from mlflow_steward.exceptions import StewardError

if TYPE_CHECKING:
    from flask import Flask
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)
_HTML = "text/html; charset=utf-8"


def _lazy_client() -> Callable[[], MlflowClient]:
    """The app's MlflowClient, made on the first request (after MLflow configured the worker)."""
    made: list[MlflowClient] = []

    def client() -> MlflowClient:
        if not made:
            made.append(_server_client.server_client())
        return made[0]

    return client


def steward_path(prefix: str) -> Callable[[str], bool]:
    root = f"{prefix}{STEWARD_ROOT}"
    return lambda path: path == root or path.startswith(root + "/")


def register_routes(flask_app: Flask, config: AppConfig) -> Callable[[], None]:
    """Add the pages to MLflow's Flask app (a blueprint at ``<static prefix>/steward``).

    Returns ``warm()``: reads the monitor windows of every monitored model into the worker's cache
    (the server runs it in a background thread at start, so a page view rarely pays for it)."""
    from flask import Blueprint, Response, redirect

    links = Links(config.prefix)
    _client = _lazy_client()
    cache = ServerCache()
    blueprint = Blueprint("steward", __name__, url_prefix=f"{config.prefix}{STEWARD_ROOT}")

    def access() -> _pages.Access:
        if not config.auth:
            return _pages.Access()
        user = tracking_server.current_user()
        if user is None:  # the guard runs first; never serve unauthenticated
            raise PermissionError("no authenticated user")
        return _pages.Access(user=user, can_read=tracking_server.model_read_predicate(user))

    def respond(render: Callable[[_pages.Access], str]) -> Response:
        try:
            who = access()
        except PermissionError:
            return Response("authentication required", status=401, headers={"WWW-Authenticate": 'Basic realm="mlflow"'})
        try:
            return Response(render(who), mimetype="text/html", content_type=_HTML)
        except _pages.PageNotFound as exc:
            return Response(_views.render_error(404, str(exc), links, user=who.user), status=404, content_type=_HTML)
        except StewardError as exc:
            return Response(_views.render_error(400, str(exc), links, user=who.user), status=400, content_type=_HTML)

    @blueprint.get("")
    def root() -> Any:
        return redirect(links.home())

    @blueprint.get("/")
    def models() -> Response:
        return respond(lambda who: _views.render_models(_pages.models_page(_client(), who, config, cache=cache), links, user=who.user))

    @blueprint.get("/models/<name>")
    def model(name: str) -> Response:
        return respond(lambda who: _views.render_model(_pages.model_page(_client(), name, who, config, cache=cache), links, user=who.user))

    @blueprint.get("/models/<name>/gates/<run_id>")
    def gate(name: str, run_id: str) -> Response:
        return respond(lambda who: _views.render_gate(_pages.gate_page(_client(), name, run_id, who), links, user=who.user))

    @blueprint.get("/datasets/<name>")
    def dataset(name: str) -> Response:
        return respond(lambda who: _views.render_dataset(_pages.dataset_page(_client(), name, who), links, user=who.user))

    flask_app.register_blueprint(blueprint)

    def warm() -> None:
        from mlflow_steward.app._monitor_source import monitored_models, read_windows

        try:
            client = _client()
            for name in monitored_models(client):
                read_windows(client, name, max_windows=config.max_monitor_windows, cache=cache.windows)
        except Exception as exc:  # a page read later says what is wrong; warming is only a head start
            _logger.warning("steward pages: could not pre-read monitor windows: %s", exc)

    return warm
