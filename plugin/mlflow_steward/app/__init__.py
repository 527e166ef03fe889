"""The steward pages inside the MLflow server: ``mlflow server --app-name steward``.

Read-only, server-rendered HTML with inline SVG under ``/steward/``: the models list, a model's page
(production history, gate decisions with forest plots, monitor windows, dataset versions, versions)
and a dataset's page. Data comes from MLflow's tracking and registry APIs through MlflowClient, so
the pages show what the CLI prints, on any backend. See ``_config`` for how basic-auth is detected.

Importing this package imports neither MLflow nor Flask (``create_app`` does).
"""

from mlflow_steward.app._config import AppConfig
from mlflow_steward.app._pages import Access, PageNotFound, dataset_page, gate_page, model_page, models_page
from mlflow_steward.app._records import (
    DatasetPage,
    DatasetSummary,
    DatasetVersion,
    GateDetail,
    GatePage,
    GateSummary,
    ModelPage,
    ModelsPage,
    ModelSummary,
    MonitorWindow,
    Move,
    Point,
    PointerMove,
    VersionRow,
)
from mlflow_steward.app._views import render_dataset, render_gate, render_model, render_models


def create_app(app=None):  # noqa: ANN001, ANN201 - the mlflow.app entry point (a plain function: a factory)
    """Build the server app (see :func:`mlflow_steward.app._server.create_app`)."""
    from mlflow_steward.app._server import create_app as _create_app

    return _create_app(app)


__all__ = [
    "Access",
    "AppConfig",
    "DatasetPage",
    "DatasetSummary",
    "DatasetVersion",
    "GateDetail",
    "GatePage",
    "GateSummary",
    "ModelPage",
    "ModelSummary",
    "ModelsPage",
    "MonitorWindow",
    "Move",
    "PageNotFound",
    "Point",
    "PointerMove",
    "VersionRow",
    "create_app",
    "dataset_page",
    "gate_page",
    "model_page",
    "models_page",
    "render_dataset",
    "render_gate",
    "render_model",
    "render_models",
]
