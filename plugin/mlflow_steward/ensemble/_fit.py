"""Members fitted on the full training set: loaded when a train run already fitted the same
trial on the same data, refitted otherwise; and their predictions aligned to the ensemble's classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlflow_steward import names

from ._members import Member, TuneContext
from ._oof import TrainingData, member_estimator

FIT_REFITTED = "refitted"
FIT_LOADED = "loaded from run {run_id}"
_STEP_TRAIN = "train"
_TRAIN_PARAM_PREFIX = names.PARAM_MODEL_PREFIX  # workflow's train step logs params as model.<name>


def _fitted_by_train_run(context: TuneContext, member: Member, client: Any) -> tuple[Any, str] | None:
    """A train run of this tuning whose model is this member's family and params on the same data."""
    from mlflow.exceptions import MlflowException

    runs = client.search_runs(
        [context.experiment_id],
        filter_string=(
            f"tags.`{names.TAG_TUNE_RUN}` = '{context.run_id}' and tags.`{names.TAG_STEP}` = '{_STEP_TRAIN}' "
            f"and tags.`{names.TAG_DATA_RUN}` = '{context.data_run_id}' "
            f"and tags.`{names.TAG_MODEL_FAMILY}` = '{member.family}' and attributes.status = 'FINISHED'"
        ),
        max_results=20,
    )
    wanted = {f"{_TRAIN_PARAM_PREFIX}{k}": str(v) for k, v in member.params.items()}
    for run in runs:
        logged = {k: v for k, v in run.data.params.items() if k.startswith(_TRAIN_PARAM_PREFIX)}
        uri = run.data.tags.get(names.TAG_MODEL_URI)
        if logged == wanted and uri:
            try:
                return load_fitted_pipeline(uri), FIT_LOADED.format(run_id=run.info.run_id)
            except (MlflowException, OSError, ValueError, AttributeError):
                continue
    return None


def load_fitted_pipeline(model_uri: str) -> Any:
    """The fitted scikit-learn pipeline of a logged model: inside our pyfunc wrapper
    (``serving.StewardModel.pipeline``), else the sklearn flavour."""
    import mlflow

    from mlflow_steward.serving import fitted_estimator

    pipeline = fitted_estimator(mlflow.pyfunc.load_model(model_uri))
    return pipeline if pipeline is not None else mlflow.sklearn.load_model(model_uri)


def fit_members(
    context: TuneContext, data: TrainingData, members: list[Member], *, client: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """``({name: fitted pipeline}, {name: how it was obtained})``."""
    fitted, sources = {}, {}
    for member in members:
        found = _fitted_by_train_run(context, member, client)
        if found is None:
            pipeline = data.make_pipeline(member_estimator(context, member))
            found = pipeline.fit(data.X_train, data.y_train), FIT_REFITTED
        fitted[member.name], sources[member.name] = found
    return fitted, sources


def predict_output(model: Any, X: Any, classes: np.ndarray | None) -> np.ndarray:
    """Regression: predictions; classification: probabilities in ``classes`` order."""
    if classes is None:
        return np.asarray(model.predict(X), dtype=float)
    proba = np.asarray(model.predict_proba(X), dtype=float)
    fitted = np.asarray(model.classes_)
    if len(fitted) == len(classes) and np.array_equal(fitted, classes):
        return proba
    aligned = np.zeros((proba.shape[0], len(classes)))
    aligned[:, np.searchsorted(classes, fitted)] = proba
    return aligned
