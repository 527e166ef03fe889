"""MLflow tracking internals: the current experiment, a client's registry URI, artifact URIs,
dataset sources, and the switch that keeps ``PythonModel.predict`` as written (see the package doc)."""

from __future__ import annotations

from typing import Any

from mlflow_steward._compat.mlflow._api import private


def current_experiment_id() -> str | None:
    """The experiment the fluent API would log to now (active run, ``MLFLOW_EXPERIMENT_ID`` /
    ``_NAME``, ``mlflow.set_experiment``), or None; MLflow has no public function for it."""
    return private("mlflow.tracking.fluent", "_get_experiment_id")()


def client_registry_uri(client: Any) -> str | None:
    """The registry URI an ``MlflowClient`` was built with (no public accessor; None if unknown)."""
    return getattr(client, "_registry_uri", None)


def run_artifact_uri(run_id: str, path: str) -> str:
    """The URI of artifact ``path`` of run ``run_id`` (``mlflow.tracking.artifact_utils``, undocumented)."""
    return private("mlflow.tracking.artifact_utils", "get_artifact_uri")(run_id, path)


def resolve_dataset_source(source: str) -> Any:
    """The MLflow dataset source for a path or URI (``mlflow.data.dataset_source_registry``, undocumented);
    raises ``MlflowException`` when no registered source type accepts it."""
    return private("mlflow.data.dataset_source_registry", "resolve_dataset_source")(source)


class UnwrappedPredict:
    """Mix in before ``mlflow.pyfunc.PythonModel``: MLflow then leaves ``predict`` as written.

    ``PythonModel.__init_subclass__`` wraps ``predict`` in type-hint validation unless the class has
    ``_skip_type_hint_validation`` (the switch MLflow's own ChatModel uses). Our serving model has no
    type hints on purpose (MLflow would infer a signature from them and accept only the ``inputs``
    payload form); the switch also silences MLflow's advice to add hints, which a caller cannot filter.
    """

    _skip_type_hint_validation = True
