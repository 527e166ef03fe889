"""MLflow internals mlflow-steward relies on, each behind one function or class (see the package doc).

Every entry of :data:`PRIVATE_API` is resolved by ``tests/compat/test_mlflow.py`` against the
installed MLflow, which fails with "MLflow X.Y removed <symbol>; update _compat/mlflow.py".
"""

from __future__ import annotations

import importlib
from typing import Any

#: (module, attribute) pairs: private MLflow API used here. ``MlflowClient._registry_uri`` is an
#: instance attribute (checked on a client); ``_skip_type_hint_validation`` is read by
#: ``PythonModel.__init_subclass__`` (checked by behaviour).
PRIVATE_API: tuple[tuple[str, str], ...] = (
    ("mlflow.tracking.fluent", "_get_experiment_id"),
    ("mlflow.tracking.client.MlflowClient()", "_registry_uri"),
    ("mlflow.pyfunc.model.PythonModel", "_skip_type_hint_validation"),
)

REMOVED = "MLflow {version} removed {symbol}; update mlflow_steward/_compat/mlflow.py"


def _private(module_name: str, attribute: str) -> Any:
    import mlflow

    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(REMOVED.format(version=mlflow.__version__, symbol=f"{module_name}.{attribute}")) from None


def current_experiment_id() -> str | None:
    """The experiment the fluent API would log to now (active run, ``MLFLOW_EXPERIMENT_ID`` /
    ``_NAME``, ``mlflow.set_experiment``), or None; MLflow has no public function for it."""
    return _private("mlflow.tracking.fluent", "_get_experiment_id")()


def client_registry_uri(client: Any) -> str | None:
    """The registry URI an ``MlflowClient`` was built with (no public accessor; None if unknown)."""
    return getattr(client, "_registry_uri", None)


class UnwrappedPredict:
    """Mix in before ``mlflow.pyfunc.PythonModel``: MLflow then leaves ``predict`` as written.

    ``PythonModel.__init_subclass__`` wraps ``predict`` in type-hint validation unless the class has
    ``_skip_type_hint_validation`` (the switch MLflow's own ChatModel uses). Our serving model has no
    type hints on purpose (MLflow would infer a signature from them and accept only the ``inputs``
    payload form); the switch also silences MLflow's advice to add hints, which a caller cannot filter.
    """

    _skip_type_hint_validation = True
