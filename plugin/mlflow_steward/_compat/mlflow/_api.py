"""The list of MLflow internals mlflow-steward touches, and the error an upgrade that removes one gives.

Every entry of :data:`PRIVATE_API` is resolved by ``tests/compat/test_mlflow.py`` against the
installed MLflow, which fails with "MLflow X.Y removed <symbol>; update mlflow_steward/_compat/mlflow".
"""

from __future__ import annotations

import importlib
from typing import Any

#: (module, attribute) pairs: private or undocumented MLflow API used here, by the module using it.
#: ``MlflowClient()._registry_uri`` is an instance attribute (checked on a client);
#: ``_skip_type_hint_validation`` is read by ``PythonModel.__init_subclass__`` and
#: ``scoring_server.app.app`` exists only inside a server (both checked by behaviour).
PRIVATE_API: tuple[tuple[str, str], ...] = (
    # tracking: the fluent API's state, a client's registry, artifact URIs, dataset sources
    ("mlflow.tracking.fluent", "_get_experiment_id"),
    ("mlflow.tracking.client.MlflowClient()", "_registry_uri"),
    ("mlflow.pyfunc.model.PythonModel", "_skip_type_hint_validation"),
    ("mlflow.tracking.artifact_utils", "get_artifact_uri"),
    ("mlflow.data.dataset_source_registry", "resolve_dataset_source"),
    # scoring_server: what `mlflow models serve` runs around our model
    ("mlflow.pyfunc.scoring_server", "_SERVER_MODEL_PATH"),
    ("mlflow.pyfunc.scoring_server", "invocations"),
    ("mlflow.pyfunc.scoring_server.app", "app"),
    ("mlflow.pyfunc.context", "get_prediction_context"),
    ("mlflow.environment_variables", "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT"),
    ("mlflow.store.artifact.models_artifact_repo", "REGISTERED_MODEL_META_FILE_NAME"),
    # tracking_server: what `mlflow server --app-name steward` hands our pages
    ("mlflow.server.handlers", "STATIC_PREFIX_ENV_VAR"),
    ("mlflow.server.constants", "BACKEND_STORE_URI_ENV_VAR"),
    ("mlflow.server.constants", "REGISTRY_STORE_URI_ENV_VAR"),
    ("mlflow.server.constants", "ARTIFACTS_DESTINATION_ENV_VAR"),
    ("mlflow.environment_variables", "_MLFLOW_SGI_NAME"),
    ("mlflow.server.auth", "_before_request"),
    ("mlflow.server.auth", "_rm_or_prompt_read_predicate"),
)

REMOVED = "MLflow {version} removed {symbol}; update mlflow_steward/_compat/mlflow"


class MissingInternal(ImportError):
    """An MLflow internal this package relies on is gone (the message names the version and symbol)."""


def removed(symbol: str) -> MissingInternal:
    import mlflow

    return MissingInternal(REMOVED.format(version=mlflow.__version__, symbol=symbol))


def private(module_name: str, attribute: str) -> Any:
    """``module_name.attribute``, or :class:`MissingInternal` naming the MLflow version."""
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise removed(f"{module_name}.{attribute}") from None
