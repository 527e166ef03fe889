"""What the gate scores on and with: the test set, the two models, their predictions, signatures.

The test set is the one recorded on the challenger version (tag ``steward.test_data_uri``, a
Parquet artifact, and ``steward.dataset_spec`` for target, task and categorical columns); a
``data=`` path overrides it. Both models predict on the very same rows.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlflow_steward import names
from mlflow_steward.exceptions import StewardGateError, StewardInputError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import download

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlflow_steward.data import DatasetSpec

MIN_TEST_ROWS = 10


@dataclass(frozen=True, eq=False)
class TestSet:
    """The frame both models are scored on, with its spec and where it came from."""

    __test__ = False  # not a pytest class

    frame: pd.DataFrame
    spec: DatasetSpec
    source: str

    @property
    def y(self) -> np.ndarray:
        return self.frame[self.spec.target].to_numpy()

    def features(self) -> pd.DataFrame:
        if self.spec.is_resolved:
            return self.frame[self.spec.feature_columns()]
        drop = [c for c in (self.spec.target, self.spec.id_column, self.spec.time_column) if c]
        return self.frame.drop(columns=drop)

    def non_feature_columns(self) -> list[str]:
        return [c for c in (self.spec.target, self.spec.id_column, self.spec.time_column) if c]


def spec_from_version(mv: ModelVersion, spec: DatasetSpec | str | None) -> DatasetSpec:
    """``spec`` if given (a DatasetSpec or its JSON), else the one recorded on the version."""
    from mlflow_steward.data import DatasetSpec

    if isinstance(spec, DatasetSpec):
        return spec
    text = spec if spec is not None else mv.tags.get(names.TAG_SPEC)
    if text is None:
        raise StewardInputError(msg.NO_SPEC.format(version=mv.version, name=mv.name, tag=names.TAG_SPEC))
    try:
        return DatasetSpec.from_json(text)
    except StewardInputError as exc:
        what = "spec=" if spec is not None else f"tag {names.TAG_SPEC!r} of version {mv.version} of {mv.name!r}"
        raise StewardInputError(msg.BAD_SPEC.format(what=what, error=exc)) from None


def load_test_set(
    client: MlflowClient, mv: ModelVersion, *, data: str | Path | None, spec: DatasetSpec | str | None
) -> TestSet:
    """The challenger's recorded test set, or ``data`` (CSV/Parquet) with the recorded or given spec."""
    from mlflow_steward.data import load_dataset

    if data is None and names.TAG_TEST_DATA_URI not in mv.tags:
        raise StewardInputError(
            msg.NO_TEST_DATA.format(version=mv.version, name=mv.name, tag=names.TAG_TEST_DATA_URI)
        )
    resolved = spec_from_version(mv, spec)
    if data is not None:
        loaded = load_dataset(data, resolved)
        return _checked(TestSet(loaded.frame, loaded.spec, str(loaded.source)), mv)
    uri = mv.tags[names.TAG_TEST_DATA_URI]
    with tempfile.TemporaryDirectory(prefix="steward-gate-") as tmp:
        try:
            local = download(client, uri, tmp)
            loaded = load_dataset(local, resolved)
        except Exception as exc:  # a missing artifact, a broken file: name the URI and version
            raise StewardInputError(
                msg.TEST_DATA_UNREADABLE.format(source=uri, version=mv.version, name=mv.name, error=exc)
            ) from exc
    return _checked(TestSet(loaded.frame.reset_index(drop=True), loaded.spec, uri), mv)


def _checked(test: TestSet, mv: ModelVersion) -> TestSet:
    if test.spec.target not in test.frame.columns:
        raise StewardInputError(
            msg.TEST_DATA_NO_TARGET.format(
                source=test.source, target=test.spec.target, columns=", ".join(map(str, test.frame.columns))
            )
        )
    if len(test.frame) < MIN_TEST_ROWS:
        raise StewardInputError(
            msg.TEST_DATA_TOO_SMALL.format(source=test.source, n=len(test.frame), minimum=MIN_TEST_ROWS)
        )
    return TestSet(test.frame.reset_index(drop=True), test.spec, test.source)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A registered version ready to predict, with its input signature (if it has one)."""

    name: str
    version: str
    model: Any  # the sklearn estimator when the version has the sklearn flavour, else a pyfunc model
    signature_inputs: list[tuple[str, str]] | None  # (column, type) pairs

    def predictions(self, X: pd.DataFrame, *, proba: bool, metric: str = "") -> np.ndarray:
        """Labels/values, or the positive-class probability (binary) / probability matrix."""
        try:
            if proba:
                if not hasattr(self.model, "predict_proba"):
                    raise StewardGateError(
                        msg.MODEL_NO_PROBA.format(version=self.version, name=self.name, metric=metric)
                    )
                out = np.asarray(self.model.predict_proba(X))
                return out[:, -1] if out.ndim == 2 and out.shape[1] == 2 else out
            out = self.model.predict(X)
        except StewardGateError:
            raise
        except Exception as exc:  # any model failure is the gate's failure to score, named
            raise StewardGateError(
                msg.PREDICT_FAILED.format(version=self.version, name=self.name, error=f"{type(exc).__name__}: {exc}")
            ) from exc
        if hasattr(out, "to_numpy"):
            out = out.to_numpy()
        out = np.asarray(out)
        return out.ravel() if out.ndim == 2 and out.shape[1] == 1 else out


def load_version(client: MlflowClient, name: str, version: str) -> LoadedModel:
    """Download ``models:/name/version`` through ``client`` and load it (sklearn flavour preferred)."""
    import mlflow
    from mlflow.models import Model

    with tempfile.TemporaryDirectory(prefix="steward-model-") as tmp:
        try:
            local = download(client, f"models:/{name}/{version}", tmp)
            meta = Model.load(local)
            if "sklearn" in meta.flavors:
                import mlflow.sklearn

                model = mlflow.sklearn.load_model(local)
            else:
                from mlflow_steward.serving import fitted_estimator

                # the fitted pipeline (predict_proba, and no inference capture), else the pyfunc
                pyfunc_model = mlflow.pyfunc.load_model(local)
                inner = fitted_estimator(pyfunc_model)
                model = inner if inner is not None else pyfunc_model
        except Exception as exc:
            raise StewardGateError(
                msg.PREDICT_FAILED.format(version=version, name=name, error=f"loading failed: {exc}")
            ) from exc
    return LoadedModel(name, str(version), model, signature_inputs(meta))


#: MLflow column types folded into the kinds our serving model records (``steward_features``).
_KIND_OF_TYPE = {
    "double": "numeric", "float": "numeric", "long": "numeric", "integer": "numeric",
    "string": "categorical", "boolean": "boolean", "datetime": "datetime", "binary": "binary",
}


def signature_inputs(meta: Any) -> list[tuple[str, str]] | None:
    """(column, kind) pairs a model expects; None when it records none.

    From the MLflow input signature (column types folded into kinds: numeric, categorical,
    boolean, datetime), else from the ``steward_features`` metadata our serving model writes (it
    logs no input schema on purpose). Kinds, not exact dtypes: an integer column that arrives as
    float in another sample is the same input to a scikit-learn pipeline.
    """
    signature = getattr(meta, "signature", None)
    if signature is not None and signature.inputs is not None:
        pairs = []
        for spec in signature.inputs.inputs:
            name = getattr(spec, "name", None)
            if name is None:
                return None  # a tensor signature has no column names to compare
            kind = getattr(spec, "type", None)
            kind = str(getattr(kind, "name", kind))
            pairs.append((str(name), _KIND_OF_TYPE.get(kind, kind)))
        return pairs
    features = (getattr(meta, "metadata", None) or {}).get(names.MODEL_METADATA_FEATURES)
    if isinstance(features, list) and all(isinstance(f, dict) and "name" in f for f in features):
        return [(str(f["name"]), str(f.get("kind", ""))) for f in features]
    return None


def compare_signatures(
    challenger: list[tuple[str, str]] | None, champion: list[tuple[str, str]] | None
) -> tuple[bool, str]:
    """(compatible, explanation): same input column names and kinds (order ignored)."""
    if champion is None:
        return True, "production model has no column signature; nothing to compare"
    if challenger is None:
        return False, "challenger has no column signature, production has one; cannot check compatibility"
    new, old = dict(challenger), dict(champion)
    problems = []
    missing = [c for c in old if c not in new]
    extra = [c for c in new if c not in old]
    changed = [f"{c} ({old[c]} -> {new[c]})" for c in old if c in new and old[c] != new[c]]
    if missing:
        problems.append("missing columns " + ", ".join(missing))
    if extra:
        problems.append("new columns " + ", ".join(extra))
    if changed:
        problems.append("changed kinds " + ", ".join(changed))
    if problems:
        return False, "input signature differs from production's: " + "; ".join(problems)
    return True, f"same {len(new)} input columns and kinds as production"
