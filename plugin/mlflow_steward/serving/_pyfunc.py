"""The pyfunc wrapper every model of ours is logged as: validate, predict, capture.

:class:`StewardModel` holds nothing fitted when it is logged (MLflow pickles it with cloudpickle):
the fitted scikit-learn pipeline is a model artifact saved with skops and loaded in
:meth:`StewardModel.load_context` with the explicit list of trusted types recorded at log time
(or with cloudpickle when the model could not be saved with skops; ``steward.json`` says which).

Capture is on when ``STEWARD_CAPTURE_PATH`` is set in the serving process, or when the model config
(given at log time, at ``mlflow.pyfunc.load_model(..., model_config=...)`` or through MLflow's
``SERVING_MODEL_CONFIG`` environment variable) has ``capture_path``; the environment variable wins.

The model name and version written on captured rows come, in this order, from the model config
(``model_name``/``model_version``), from ``STEWARD_MODEL_NAME``/``STEWARD_MODEL_VERSION``, or from
the registry at load time: the versions whose run and logged-model id are this model's (one match
needed; ``mlflow models serve -m models:/NAME@production`` hands the server a downloaded copy, not
the alias). Every row also carries the model's ``model_id`` and ``run_id``, which always identify it.

The request id of a call is the ``request_id`` inference parameter when the caller sends one
(``{"dataframe_split": ..., "params": {"request_id": "..."}}``, so labels can be joined later),
else the request id of MLflow's prediction context when one is set, else a new uuid4.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from mlflow_steward import names
from mlflow_steward._compat.mlflow import UnwrappedPredict
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving._capture import CaptureWriter, ModelIdentity
from mlflow_steward.serving._validation import FeatureSchema, validate_frame

logger = logging.getLogger(__name__)

NOT_LOADED = "StewardModel has no fitted pipeline yet: load it with mlflow.pyfunc.load_model(model_uri)"
NO_PROBA = "the model is not a classifier with predict_proba ({estimator}); probabilities are not available"
PREDICT_FAILED = "the model could not score the input: {error}"
UNKNOWN_SERIALIZATION = "steward.json: unknown serialization {value!r}; expected 'skops' or 'cloudpickle'"
REGISTRY_TIMEOUT_S = 10.0

#: True while :func:`log_pipeline_model` logs a model: MLflow then loads it to check the input
#: example, and those rows are not inferences to capture.
CAPTURE_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar("steward_capture_suppressed", default=False)


def load_pipeline(path: str | Path, manifest: dict[str, Any]) -> Any:
    """Load the fitted pipeline saved next to ``manifest`` (skops with its trusted types, or cloudpickle)."""
    serialization = manifest.get("serialization")
    if serialization == "skops":
        import skops.io as sio

        return sio.load(path, trusted=list(manifest.get("trusted_types", [])))
    if serialization == "cloudpickle":
        import cloudpickle

        with open(path, "rb") as handle:
            return cloudpickle.load(handle)
    raise StewardInputError(UNKNOWN_SERIALIZATION.format(value=serialization))


def _model_dir(artifact_path: str) -> Path:
    """``<model>/artifacts/<file>`` -> ``<model>``."""
    return Path(artifact_path).resolve().parent.parent


def _logged_ids(model_dir: Path) -> tuple[str | None, str | None]:
    try:
        from mlflow.models import Model

        meta = Model.load(str(model_dir / "MLmodel"))
    except Exception as exc:  # an unusual copy of the model: capture still works without ids
        logger.warning("cannot read %s/MLmodel for the model's ids: %s", model_dir, exc)
        return None, None
    return getattr(meta, "model_id", None), getattr(meta, "run_id", None)


def _registry_configured() -> bool:
    """Whether a tracking/registry URI was given: without one, a lookup would create a store in the cwd."""
    if os.environ.get("MLFLOW_TRACKING_URI") or os.environ.get("MLFLOW_REGISTRY_URI"):
        return True
    return bool(mlflow.is_tracking_uri_set())


def _registry_lookup(model_id: str | None, run_id: str | None, name: str | None) -> tuple[str | None, str | None]:
    """The single registered version of this logged model (optionally under ``name``), else (name, None)."""
    if run_id is None or not _registry_configured():
        return name, None
    client = mlflow.MlflowClient()
    found = client.search_model_versions(f"run_id = '{run_id}'")
    matches = [
        v for v in found
        if (name is None or v.name == name) and (model_id is None or getattr(v, "model_id", None) in (None, model_id))
    ]  # fmt: skip
    if len(matches) != 1:
        if matches:
            logger.warning(
                "model is registered %d times (%s); set %s/%s to say which one captured rows belong to",
                len(matches), ", ".join(f"{v.name} v{v.version}" for v in matches),
                names.ENV_MODEL_NAME, names.ENV_MODEL_VERSION,
            )  # fmt: skip
        return name, None
    return matches[0].name, str(matches[0].version)


def resolve_identity(config: dict[str, Any], model_id: str | None, run_id: str | None) -> ModelIdentity:
    """Model name/version for captured rows: model config, then environment, then the registry."""
    name = config.get(names.MODEL_CONFIG_MODEL_NAME) or os.environ.get(names.ENV_MODEL_NAME) or None
    version = config.get(names.MODEL_CONFIG_MODEL_VERSION) or os.environ.get(names.ENV_MODEL_VERSION) or None
    if version is None:
        result: dict[str, tuple[str | None, str | None]] = {}

        def lookup() -> None:
            try:
                result["found"] = _registry_lookup(model_id, run_id, name)
            except Exception as exc:  # no registry reachable: ids still identify the model
                logger.warning("cannot resolve the registered model version for capture: %s", exc)

        worker = threading.Thread(target=lookup, daemon=True, name="steward-registry-lookup")
        worker.start()
        worker.join(REGISTRY_TIMEOUT_S)
        if "found" in result:
            name, version = result["found"]
    return ModelIdentity(
        name=name, version=None if version is None else str(version), model_id=model_id, run_id=run_id
    )


def _capture_path(config: dict[str, Any]) -> str | None:
    return os.environ.get(names.ENV_CAPTURE_PATH) or config.get(names.MODEL_CONFIG_CAPTURE_PATH) or None


def _invalid(exc: StewardInputError) -> MlflowException:
    return MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE)


class StewardModel(UnwrappedPredict, mlflow.pyfunc.PythonModel):
    """Validate the request frame, predict with the fitted pipeline, capture the scored rows.

    After loading: ``pipeline`` is the fitted scikit-learn pipeline, ``schema`` the expected
    columns, ``capture`` the :class:`~mlflow_steward.serving.CaptureWriter` (or None). Classifiers
    also offer :meth:`predict_proba` and ``classes_`` (reach them with
    ``mlflow.pyfunc.load_model(uri).unwrap_python_model()``).
    """

    # No type hints on ``predict``, on purpose: MLflow would infer a signature from them and accept only
    # the ``inputs`` payload form. ``UnwrappedPredict`` (MLflow's private switch, in _compat) keeps
    # MLflow from wrapping it and from advising to add hints, which a caller cannot filter.

    def __init__(self) -> None:
        self.pipeline: Any = None
        self.schema: FeatureSchema | None = None
        self.capture: CaptureWriter | None = None
        self.identity = ModelIdentity()
        self.manifest: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:  # stateless when pickled: the fitted pipeline is an artifact
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def load_context(self, context) -> None:
        manifest_path = context.artifacts[names.MODEL_ARTIFACT_MANIFEST]
        self.manifest = json.loads(Path(manifest_path).read_text())
        self.schema = FeatureSchema.from_dict(self.manifest["features"])
        self.pipeline = load_pipeline(context.artifacts[names.MODEL_ARTIFACT_PIPELINE], self.manifest)
        config = dict(context.model_config or {})
        path = _capture_path(config)
        if path and not CAPTURE_SUPPRESSED.get():
            model_id, run_id = _logged_ids(_model_dir(manifest_path))
            self.identity = resolve_identity(config, model_id, run_id)
            self.capture = CaptureWriter(path)

    # -- predicting ----------------------------------------------------------------------------
    def _frame(self, model_input: Any):
        if self.pipeline is None or self.schema is None:
            raise MlflowException(NOT_LOADED)
        try:
            return validate_frame(model_input, self.schema)
        except StewardInputError as exc:
            raise _invalid(exc) from None

    def predict(self, context, model_input, params=None):
        frame = self._frame(model_input)
        try:
            predictions = self.pipeline.predict(frame)
        except ValueError as exc:  # scikit-learn and our cleaning refuse bad input with ValueError
            raise MlflowException(PREDICT_FAILED.format(error=exc), error_code=INVALID_PARAMETER_VALUE) from exc
        if self.capture is not None:
            self._capture(frame, predictions, params)
        return predictions

    def _capture(self, frame, predictions, params) -> None:
        try:
            probabilities = classes = None
            if self.manifest.get("task") == "classification" and hasattr(self.pipeline, "predict_proba"):
                probabilities, classes = self.pipeline.predict_proba(frame), self.classes_
            request_id = _request_id(params)
        except Exception as exc:  # never fail a prediction because of capture
            logger.warning("inference capture skipped: %s: %s", type(exc).__name__, exc)
            return
        self.capture.record(
            frame, predictions, request_id=request_id, identity=self.identity,
            probabilities=probabilities, classes=classes,
        )  # fmt: skip

    def predict_proba(self, model_input) -> np.ndarray:
        """Class probabilities (columns in the order of ``classes_``) for a validated frame."""
        if self.pipeline is not None and not hasattr(self.pipeline, "predict_proba"):
            raise MlflowException(NO_PROBA.format(estimator=type(self.pipeline).__name__))
        frame = self._frame(model_input)
        return self.pipeline.predict_proba(frame)

    @property
    def classes_(self) -> np.ndarray:
        """The classifier's classes (AttributeError for a regressor, as in scikit-learn)."""
        classes = getattr(self.pipeline, "classes_", None)
        if classes is None:
            raise AttributeError("classes_: the model is not a fitted classifier")
        return classes


def _request_id(params: dict[str, Any] | None) -> str:
    given = (params or {}).get(names.PARAM_REQUEST_ID)
    if given:
        return str(given)
    try:
        from mlflow.pyfunc.context import get_prediction_context

        context = get_prediction_context()
    except ImportError:  # pragma: no cover - older MLflow
        context = None
    if context is not None and getattr(context, "request_id", None):
        return str(context.request_id)
    return uuid.uuid4().hex
