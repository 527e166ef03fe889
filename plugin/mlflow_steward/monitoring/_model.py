"""A model's reference profile: built at fit time, stored inside the model, read back from a model URI.

At fit time :func:`fit_reference_profile` profiles the training features and the model's outputs on
held-out rows (in-sample predictions of a flexible model are tighter than live ones, which would look
like drift). Serving writes the profile into the model directory (``artifacts/reference_profile.json``)
and the train run logs it as ``monitoring/reference_profile.json``. :func:`load_profile` reads it from
``models:/NAME@alias`` (or any model URI); for models logged before profiles existed,
:func:`profile_from_training_data` recomputes it from the training split their run recorded.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._build import build_profile
from mlflow_steward.monitoring._config import ProfileConfig
from mlflow_steward.monitoring._profile import Profile

BAD_MODEL = "model {model!r}: expected NAME, NAME@ALIAS, NAME/VERSION or models:/NAME@ALIAS"
UNKNOWN_MODEL = "model {model!r}: {detail}"
NO_PROFILE = (
    "model {model}: no reference profile inside the model, and its run records no training data "
    "(tag {tag}) to compute one from"
)

SOURCE_MODEL = "model"
SOURCE_TRAINING_DATA = "training data"

_VERSION = re.compile(r"^(?P<name>.+)/(?P<version>\d+)$")


@dataclass(frozen=True)
class ModelRef:
    """A registered model version, as resolved from ``NAME[@alias]`` or ``NAME/VERSION``."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    source: str  # where the model's files are (models:/m-... or runs:/...)
    target: str | None = None  # the target column recorded on the version (not an input)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def describe(self) -> str:
        return f"{self.name} v{self.version}" + (f" (@{self.alias})" if self.alias else "")


def resolve_model(model: str) -> ModelRef:
    """``NAME`` (= ``NAME@production``), ``NAME@ALIAS``, ``NAME/VERSION``, optionally with ``models:/``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    text = model[len("models:/"):] if model.startswith("models:/") else model
    if not text or text.startswith("/"):
        raise StewardInputError(BAD_MODEL.format(model=model))
    client = mlflow.MlflowClient()
    name, sep, alias = text.partition("@")
    match = _VERSION.match(text) if not sep else None
    try:
        if match:
            name, alias = match["name"], None
            version = client.get_model_version(name, match["version"])
        else:
            alias = alias if sep else names.ALIAS_PRODUCTION
            version = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        detail = str(exc).splitlines()[0]
        try:
            aliases = client.get_registered_model(name).aliases
            detail += f" (aliases: {', '.join(f'{a}=v{v}' for a, v in sorted(aliases.items())) or 'none'})"
        except MlflowException:
            detail = f"no registered model named {name!r}"
        raise StewardInputError(UNKNOWN_MODEL.format(model=model, detail=detail)) from None
    return ModelRef(name=name, version=str(version.version), alias=alias, run_id=version.run_id,
                    source=version.source, target=(version.tags or {}).get(names.TAG_TARGET))  # fmt: skip


def _outputs_profile(predictions: Any, probabilities: Any, classes: Any, rows: int, config: ProfileConfig) -> Profile:
    return build_profile(pd.DataFrame(index=pd.RangeIndex(rows)), predictions=predictions,
                         probabilities=probabilities, classes=classes, config=config, progress=False)  # fmt: skip


def _combine(features: Profile, outputs: Profile | None, source: str) -> Profile:
    if outputs is None:
        return replace(features, source=source)
    return Profile(columns=features.columns + outputs.columns, rows=features.rows, task=outputs.task,
                   classes=outputs.classes, source=source)  # fmt: skip


def fit_reference_profile(
    model: Any,
    X_train: pd.DataFrame,
    X_held_out: pd.DataFrame | None = None,
    *,
    config: ProfileConfig | Mapping[str, Any] | None = None,
) -> Profile:
    """The reference profile of a fitted model: its training features, and its outputs (prediction,
    class probabilities) on ``X_held_out`` (else on ``X_train``)."""
    config = config if isinstance(config, ProfileConfig) else ProfileConfig.from_dict(config)
    features = build_profile(X_train, config=config, source="training data", progress=False)
    rows = X_held_out if X_held_out is not None else X_train
    if model is None or len(rows) == 0:
        return _combine(features, None, SOURCE_TRAINING_DATA)
    predictions = np.asarray(model.predict(rows))
    probabilities = classes = None
    if hasattr(model, "predict_proba") and getattr(model, "classes_", None) is not None:
        probabilities, classes = model.predict_proba(rows), list(model.classes_)
    outputs = _outputs_profile(predictions, probabilities, classes, len(rows), config)
    return _combine(features, outputs, SOURCE_TRAINING_DATA)


def log_reference_profile(profile: Profile) -> None:
    """Log ``profile`` to the active run as ``monitoring/reference_profile.json``."""
    import mlflow

    mlflow.log_text(profile.to_json(), names.ARTIFACT_REFERENCE_PROFILE)


def model_reference_profile(pipeline: Any, X_train: Any, X_test: Any) -> dict[str, Any]:
    """For a train step (the hook ``steps.train_step`` calls inside the train run): the fitted
    model's reference profile, logged to the active run and returned as the dict that travels
    inside the model."""
    profile = fit_reference_profile(pipeline, X_train, X_test)
    log_reference_profile(profile)
    return profile.to_dict()


def _download(uri: str, destination: str) -> Path | None:
    from mlflow.exceptions import MlflowException

    import mlflow

    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=destination))
    except (MlflowException, OSError):
        return None


def _stored_profile(model_uri: str) -> Profile | None:
    with tempfile.TemporaryDirectory(prefix="steward-profile-") as tmp:
        path = _download(f"{model_uri.rstrip('/')}/artifacts/{names.REFERENCE_PROFILE_FILE}", tmp)
        if path is None or not path.is_file():
            return None
        return replace(Profile.from_json(path.read_text()), source=SOURCE_MODEL)


def load_profile(model: str | ModelRef, *, fallback: bool = True) -> Profile:
    """The reference profile stored inside a model (``NAME[@alias]``, ``NAME/VERSION``, or any model URI).

    For a registered model logged without one, and ``fallback``, it is recomputed from the training
    data its run recorded (:func:`profile_from_training_data`); ``Profile.source`` says which.
    """
    if isinstance(model, ModelRef):
        ref: ModelRef | None = model
        uri = model.source or model.uri
    elif "://" in model and not model.startswith("models:/") or re.match(r"^models:/m-[0-9a-f]+$", model):
        ref, uri = None, model
    else:
        ref = resolve_model(model)
        uri = ref.source or ref.uri
    profile = _stored_profile(uri)
    if profile is None and ref is not None and uri != ref.uri:
        profile = _stored_profile(ref.uri)
    if profile is not None:
        return profile
    if ref is None or not fallback:
        raise StewardInputError(f"model {model}: no reference profile inside the model ({names.REFERENCE_PROFILE_FILE})")
    return profile_from_training_data(ref)


def profile_from_training_data(model: ModelRef, *, config: ProfileConfig | None = None) -> Profile:
    """Recompute a model version's reference profile from its training run's recorded data: the
    train split's features, and the model's outputs on the test split."""
    import mlflow

    from mlflow_steward.data import DatasetSpec

    run = mlflow.MlflowClient().get_run(model.run_id) if model.run_id else None
    data_run = run.data.tags.get(names.TAG_DATA_RUN) if run is not None else None
    if not data_run:
        raise StewardInputError(NO_PROFILE.format(model=model.describe(), tag=names.TAG_DATA_RUN))

    def fetch(artifact: str) -> str:
        return mlflow.artifacts.download_artifacts(run_id=data_run, artifact_path=artifact)

    spec = DatasetSpec.from_json(Path(fetch(names.ARTIFACT_DATASET_SPEC)).read_text())
    loaded = mlflow.pyfunc.load_model(model.uri)
    recorded = (loaded.metadata.metadata or {}).get("steward_features")  # the model's inputs, in its order
    columns = [item["name"] for item in recorded] if recorded else [
        *spec.feature_columns(), *([spec.time_column] if spec.time_column else [])
    ]  # fmt: skip
    train = pd.read_parquet(fetch(names.ARTIFACT_TRAIN_DATA), columns=columns)
    test = pd.read_parquet(fetch(names.ARTIFACT_TEST_DATA), columns=columns)
    config = config or ProfileConfig()
    features = build_profile(train, config=config, source="training data", progress=False)
    predictions = np.asarray(loaded.predict(test))
    probabilities = classes = None
    if spec.task == "classification":
        wrapper = loaded.unwrap_python_model()
        if hasattr(wrapper, "predict_proba"):
            probabilities, classes = wrapper.predict_proba(test), list(wrapper.classes_)
    outputs = _outputs_profile(predictions, probabilities, classes, len(test), config)
    return _combine(features, outputs, f"{SOURCE_TRAINING_DATA} of run {data_run} (recomputed)")

