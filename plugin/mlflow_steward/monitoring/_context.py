"""What monitoring needs to know about a registered model version beyond its profile: its task, its
test metrics (recorded at registration), its test set (for the calibration check), and the model
itself (loaded on first use). Read-only registry and tracking calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward.monitoring._model import ModelRef
from mlflow_steward.monitoring._performance import Baseline, baselines_of
from mlflow_steward.monitoring._profile import Profile


@dataclass
class ModelContext:
    """A version as monitoring sees it (see the module docstring)."""

    ref: ModelRef
    profile: Profile | None
    task: str
    target: str | None
    test_values: dict[str, Baseline]
    test_data_uri: str | None
    categorical: tuple[str, ...]
    _loaded: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        """The pyfunc model (loaded once)."""
        if self._loaded is None:
            import mlflow

            self._loaded = mlflow.pyfunc.load_model(self.ref.uri)
        return self._loaded

    @property
    def wrapper(self) -> Any:
        """Our :class:`~mlflow_steward.serving.StewardModel` inside the pyfunc (None for other models)."""
        try:
            return self.model.unwrap_python_model()
        except Exception:  # not a python_function model of ours
            return None

    def test_set(self) -> pd.DataFrame | None:
        """The version's fixed test set (None when it records none)."""
        if not self.test_data_uri:
            return None
        import mlflow

        return pd.read_parquet(mlflow.artifacts.download_artifacts(artifact_uri=self.test_data_uri))

    def test_probabilities(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(class codes of the test labels in the model's class order, probability matrix) or None."""
        frame = self.test_set()
        wrapper = self.wrapper
        if frame is None or self.target is None or self.target not in frame.columns or wrapper is None:
            return None
        if not hasattr(wrapper, "predict_proba"):
            return None
        from mlflow_steward.monitoring._labels import as_text

        features = frame.drop(columns=[self.target])
        proba = np.asarray(wrapper.predict_proba(features), dtype=float)
        classes = [as_text(c) for c in wrapper.classes_]
        codes = {c: i for i, c in enumerate(classes)}
        y = np.array([codes.get(as_text(v), -1) for v in frame[self.target]])
        return y, proba


def model_context(ref: ModelRef, profile: Profile | None) -> ModelContext:
    """Task, test metrics and test set of ``ref`` (one registry read, one run read). Without a profile
    (``steward review`` of a model logged without one) the task and the categorical inputs come from
    the model itself."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    version = client.get_model_version(ref.name, ref.version)
    tags = dict(version.tags or {})
    run_metrics: dict[str, float] = {}
    if ref.run_id:
        try:
            run_metrics = dict(client.get_run(ref.run_id).data.metrics)
        except MlflowException:
            run_metrics = {}
    context = ModelContext(ref=ref, profile=profile, task=tags.get(names.TAG_TASK) or "", target=tags.get(names.TAG_TARGET)
                           or ref.target, test_values=baselines_of(run_metrics, tags),
                           test_data_uri=tags.get(names.TAG_TEST_DATA_URI), categorical=())  # fmt: skip
    if profile is not None:
        context.categorical = tuple(c.name for c in profile.columns if c.role == "feature" and c.kind == "categorical")
        context.task = context.task or profile.task or ("classification" if profile.classes else "")
    if not context.task or profile is None:
        wrapper = context.wrapper
        manifest = getattr(wrapper, "manifest", None) or {}
        context.task = context.task or manifest.get("task") or (
            "classification" if hasattr(getattr(wrapper, "pipeline", None), "predict_proba") else "regression"
        )  # fmt: skip
        schema = getattr(wrapper, "schema", None)
        if profile is None and schema is not None:
            context.categorical = tuple(c for c, k in zip(schema.columns, schema.kinds) if k == "categorical")
    return context
