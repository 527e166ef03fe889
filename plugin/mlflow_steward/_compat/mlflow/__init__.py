"""MLflow internals mlflow-steward relies on: the one place that touches them, one module per concept.

* :mod:`.tracking`: the fluent API's current experiment, a client's registry URI, a run's artifact
  URI, dataset sources, and the switch that keeps ``PythonModel.predict`` unwrapped (re-exported here);
* :mod:`.scoring_server`: what ``mlflow models serve`` does around our model (the error-message
  rewrite, the request wrapper and timeout, the FastAPI app for ``/metrics`` and the shutdown
  flush, the registered identity of a downloaded model, the request id);
* :mod:`.tracking_server`: what ``mlflow server`` hands the steward pages (its workers' private
  environment, its Flask app, basic-auth composition and the auth app's read predicate).

Every symbol they touch is listed in :data:`PRIVATE_API`; ``tests/compat/test_mlflow.py`` checks
each against the installed release. Nothing here imports MLflow at import time except
:mod:`.scoring_server` (its error types subclass ``MlflowException``; only the served wrapper
imports it), and nothing imports any other module of ours: the package travels inside every logged
model with ``serving`` (``serving._code_copy.MODEL_CODE_COMPAT``).
"""

from mlflow_steward._compat.mlflow._api import PRIVATE_API, REMOVED, MissingInternal, private
from mlflow_steward._compat.mlflow.tracking import (
    UnwrappedPredict,
    client_registry_uri,
    current_experiment_id,
    resolve_dataset_source,
    run_artifact_uri,
)

__all__ = [
    "PRIVATE_API",
    "REMOVED",
    "MissingInternal",
    "UnwrappedPredict",
    "client_registry_uri",
    "current_experiment_id",
    "private",
    "resolve_dataset_source",
    "run_artifact_uri",
]
