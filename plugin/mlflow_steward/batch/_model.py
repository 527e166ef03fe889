"""The model a batch job scores: resolved once, downloaded once, described from its own files.

``models:/NAME@production`` is resolved to its version *before* the job starts, and the job scores
``models:/NAME/VERSION``: an alias moved while a long job runs cannot mix two models in one output.
The model directory is downloaded once (the Spark engine hands the same local copy to
``mlflow.pyfunc.spark_udf``). For our models, ``steward.json`` gives the expected columns and their
kinds (the server's checks), the task and whether class probabilities exist; any other pyfunc model
is scored with ``predict`` alone.

Batch scoring never turns on the model's own inference capture: ``STEWARD_CAPTURE_PATH`` is blanked
while the model loads (and on Spark executors), because a batch writes its captures itself
(``--capture-dir``), in bulk.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError

PREDICTION = "prediction"
PROBABILITY_PREFIX = "probability/"
MODEL_NAME_COLUMN = "model_name"
MODEL_VERSION_COLUMN = "model_version"
TASK_CLASSIFICATION = "classification"
TASK_REGRESSION = "regression"

BAD_MODEL = "model {model!r}: expected models:/NAME@ALIAS, models:/NAME/VERSION, NAME[@ALIAS], runs:/... or a model directory"
UNKNOWN_MODEL = "model {model!r}: {detail}"
NOT_A_MODEL = "model {model!r}: {path} holds no MLmodel file (not an MLflow model)"

_VERSION = re.compile(r"^(?P<name>[^@/]+)/(?P<version>\d+)$")
_ALIAS = re.compile(r"^(?P<name>[^@/]+)@(?P<alias>[\w-]+)$")


@dataclass(frozen=True)
class ModelOutputs:
    """A chunk's outputs: predictions, and class probabilities (columns = classes) for classifiers."""

    predictions: np.ndarray
    probabilities: pd.DataFrame | None = None

    def frame(self, index: pd.Index) -> pd.DataFrame:
        """``prediction`` and ``probability/<class>`` columns, on ``index``."""
        out = pd.DataFrame({PREDICTION: self.predictions}, index=index)
        if self.probabilities is not None:
            for column in self.probabilities.columns:
                out[PROBABILITY_PREFIX + str(column)] = self.probabilities[column].to_numpy(dtype="float64")
        return out


@contextlib.contextmanager
def no_model_capture() -> Iterator[None]:
    """Blank ``STEWARD_CAPTURE_PATH`` while a model loads: the model's own capture stays off."""
    before = os.environ.get(names.ENV_CAPTURE_PATH)
    os.environ[names.ENV_CAPTURE_PATH] = ""
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(names.ENV_CAPTURE_PATH, None)
        else:
            os.environ[names.ENV_CAPTURE_PATH] = before


def _registry_uri(model: str) -> tuple[str, str | None, str | None, str | None]:
    """``(uri to score, name, version, alias)``: aliases resolved to their version now."""
    import mlflow
    from mlflow.exceptions import MlflowException

    text = model[len("models:/"):] if model.startswith("models:/") else model
    by_version, by_alias = _VERSION.match(text), _ALIAS.match(text)
    if model.startswith("models:/") and text.startswith("m-") and not (by_version or by_alias):
        return model, None, None, None  # a logged model id: scored as is, no registered identity
    if not (by_version or by_alias or (text and "/" not in text and ":" not in text)):
        raise StewardInputError(BAD_MODEL.format(model=model))
    client = mlflow.MlflowClient()
    try:
        if by_version:
            name, alias = by_version["name"], None
            version = client.get_model_version(name, by_version["version"])
        else:
            name, alias = (by_alias["name"], by_alias["alias"]) if by_alias else (text, names.ALIAS_PRODUCTION)
            version = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        raise StewardInputError(UNKNOWN_MODEL.format(model=model, detail=str(exc).splitlines()[0])) from None
    return f"models:/{name}/{version.version}", name, str(version.version), alias


@dataclass
class BatchModel:
    """A model to score in bulk, downloaded to ``local_dir``."""

    given: str  # what the user named
    uri: str  # what is scored (an alias resolved to models:/NAME/VERSION)
    local_dir: Path
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)  # steward.json; empty for other pyfunc models
    _loaded: Any = None
    _classes: tuple[str, ...] | None = None

    @classmethod
    def resolve(cls, model: str, *, download_to: str | Path | None = None) -> BatchModel:
        """Resolve and download ``model`` (a registry name or alias, a model URI or a directory)."""
        import mlflow

        local = Path(model)
        name = version = alias = None
        if "://" not in model and not model.startswith(("models:/", "runs:/")) and local.exists():
            uri = str(local.resolve())
        elif model.startswith(("runs:/", "mlflow-artifacts:/", "file:/", "s3:/", "gs:/", "wasbs:/", "abfss:/", "dbfs:/")):
            uri = model
        else:
            uri, name, version, alias = _registry_uri(model)
        directory = Path(download_to or tempfile.mkdtemp(prefix="steward-batch-model-"))
        try:
            path = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(directory)))
        except Exception as exc:  # MlflowException, OSError: an unknown run, path or artifact
            raise StewardInputError(UNKNOWN_MODEL.format(model=model, detail=str(exc).splitlines()[0])) from None
        if not (path / "MLmodel").is_file():
            raise StewardInputError(NOT_A_MODEL.format(model=model, path=path))
        from mlflow.models import Model

        meta = Model.load(str(path / "MLmodel"))
        manifest: dict[str, Any] = {}
        artifacts = (meta.flavors.get("python_function") or {}).get("artifacts") or {}
        entry = artifacts.get(names.MODEL_ARTIFACT_MANIFEST)
        if entry and (path / entry["path"]).is_file():
            manifest = json.loads((path / entry["path"]).read_text())
        return cls(given=model, uri=uri, local_dir=path, name=name, version=version, alias=alias,
                   run_id=getattr(meta, "run_id", None), model_id=getattr(meta, "model_id", None),
                   manifest=manifest)  # fmt: skip

    # -- what the model expects and says ------------------------------------------------------
    @property
    def is_steward_model(self) -> bool:
        return bool(self.manifest.get("features"))

    @property
    def feature_columns(self) -> tuple[str, ...] | None:
        """The input columns our models check (None for other pyfunc models: all columns are passed)."""
        if not self.is_steward_model:
            return None
        return tuple(str(f["name"]) for f in self.manifest["features"])

    @property
    def task(self) -> str | None:
        return self.manifest.get("task")

    def schema(self):
        """Our models' :class:`~mlflow_steward.serving.FeatureSchema` (None for other models)."""
        from mlflow_steward.serving import FeatureSchema

        return FeatureSchema.from_dict(self.manifest["features"]) if self.is_steward_model else None

    def describe(self) -> str:
        if self.name:
            return f"{self.name} v{self.version}" + (f" (@{self.alias})" if self.alias else "")
        return self.given

    def load(self):
        """The pyfunc, loaded once in this process (with the model's own capture off)."""
        if self._loaded is None:
            import mlflow

            with no_model_capture():
                self._loaded = mlflow.pyfunc.load_model(str(self.local_dir))
        return self._loaded

    def classes(self) -> tuple[str, ...]:
        """Class labels as text, in ``predict_proba`` column order; empty for a regressor or a model
        without probabilities."""
        if self._classes is None:
            found: tuple[str, ...] = ()
            if self.task == TASK_CLASSIFICATION:
                wrapper = self.load().unwrap_python_model()
                if hasattr(wrapper, "predict_proba"):
                    try:
                        found = tuple(str(c) for c in wrapper.classes_)
                    except AttributeError:
                        found = ()
            self._classes = found
        return self._classes

    def output_columns(self) -> list[str]:
        return [PREDICTION, *(PROBABILITY_PREFIX + c for c in self.classes())]

    def predict(self, frame: pd.DataFrame) -> ModelOutputs:
        """Predictions (and probabilities) of one chunk, through the pyfunc: the same checks as the
        server; a refused chunk raises the model's error (see :func:`refused_message`)."""
        loaded = self.load()
        predictions = np.asarray(loaded.predict(frame))
        probabilities = None
        if self.classes():
            wrapper = loaded.unwrap_python_model()
            probabilities = pd.DataFrame(np.asarray(wrapper.predict_proba(frame)), columns=list(self.classes()))
        return ModelOutputs(predictions=predictions, probabilities=probabilities)


def refused_message(exc: BaseException) -> str | None:
    """The message of a model's refusal of its input (what the scoring server answers with HTTP 400),
    or None when ``exc`` is not one."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, ErrorCode

    if isinstance(exc, StewardInputError):
        return str(exc)
    if isinstance(exc, MlflowException) and exc.error_code == ErrorCode.Name(INVALID_PARAMETER_VALUE):
        return exc.message
    return None
