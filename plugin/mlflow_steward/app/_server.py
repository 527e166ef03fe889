"""``create_app``: the ``mlflow.app`` factory behind ``mlflow server --app-name steward``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlflow_steward._compat.mlflow import MissingInternal, tracking_server
from mlflow_steward.app._config import AppConfig
from mlflow_steward.app._routes import register_routes, steward_path

if TYPE_CHECKING:
    from flask import Flask


def create_app(app: Flask | None = None) -> Any:
    """MLflow's server app with the steward pages under ``/steward/``.

    ``mlflow server --app-name steward`` calls this once per worker (a factory: uvicorn gets
    ``--factory``). Everything MLflow serves stays as it is. With basic-auth configured (see
    ``_config``), MLflow's basic-auth app is composed in: every request is authenticated, and our
    pages list only the models the user may read. Returns what the running server expects: the
    FastAPI wrapper under uvicorn (MLflow's default), the Flask app under gunicorn or waitress.
    """
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bars in the server's log
    config = AppConfig.from_env()
    flask_app = app if app is not None else tracking_server.mlflow_flask_app()
    warm = register_routes(flask_app, config)
    import threading

    threading.Thread(target=warm, name="steward-warm-monitor-windows", daemon=True).start()
    if config.auth:
        try:
            return tracking_server.compose_basic_auth(flask_app, steward_path(config.prefix))
        except MissingInternal as exc:
            from mlflow_steward.exceptions import StewardError

            raise StewardError(str(exc)) from exc
    return tracking_server.serve(flask_app)
