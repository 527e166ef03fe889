"""The training data of the reference tuning and its members' out-of-fold predictions.

The rows and folds are the tuning's: ``X`` is the clean run's training frame (feature columns, plus
the time column if any) in its stored order, and the folds are ``tuning.make_cv(task, cv,
random_state)`` over those rows, exactly as :func:`mlflow_steward.tuning.tune` made them. Each
family's best trial has its OOF predictions in ``tuning/oof_predictions.parquet`` (columns:
``row``, ``fold``, ``y_true``, then one column per family, or ``<family>[<class>]`` per class with
more than two classes); any other member's are recomputed with ``cross_val_predict`` over the same
folds. The stored frame is checked against the rows first (length, target and fold of every row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps import feature_frame, load_step_inputs, pipeline_factory

from . import _messages as msg
from ._members import Member, TuneContext

SOURCE_TUNING = "tuning"  # OOF predictions read from tuning/oof_predictions.parquet
SOURCE_RECOMPUTED = "recomputed"  # ... recomputed with cross_val_predict over the tuning's folds


@dataclass(frozen=True)
class TrainingData:
    """What the clean run behind the tuning recorded, in the shapes the pipelines take."""

    spec: Any
    X_train: Any
    y_train: np.ndarray  # as tuning saw it (classification labels as str objects when text)
    X_test: Any
    y_test: np.ndarray
    make_pipeline: Callable[[Any], Any]


@dataclass(frozen=True)
class OutOfFold:
    """Members' OOF predictions ``(m, n)`` / ``(m, n, k)``, each row's fold and each member's source."""

    predictions: np.ndarray
    folds: np.ndarray
    sources: dict[str, str]
    classes: np.ndarray | None


def target_array(y: Any, task: str) -> np.ndarray:
    """The target as :func:`tuning.tune` converts it (float, or text labels as ``str`` objects)."""
    import pandas as pd

    values = y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y)
    if task == "regression":
        return values.astype(float)
    if values.dtype == object or isinstance(getattr(y, "dtype", None), pd.StringDtype):
        return values.astype(str).astype(object)
    return values


def load_training_data(context: TuneContext) -> TrainingData:
    """Spec, cleaning config and the fixed split of the tuning's clean run; the pipeline factory."""
    inputs = load_step_inputs(context.data_run_id)
    spec = inputs.spec
    factory = pipeline_factory(spec, inputs.cleaning)
    return TrainingData(
        spec=spec,
        X_train=feature_frame(spec, inputs.train),
        y_train=target_array(inputs.train[spec.target], spec.task),
        X_test=feature_frame(spec, inputs.test),
        y_test=target_array(inputs.test[spec.target], spec.task),
        make_pipeline=factory,
    )


def tuning_folds(context: TuneContext, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The tuning's folds over the training rows (tuning's own splitter, same seed)."""
    from mlflow_steward.tuning import make_cv

    splitter = make_cv(context.task, context.cv, context.random_state)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def member_estimator(context: TuneContext, member: Member) -> Any:
    """The member's unfitted estimator (its family's builder, its params, the tuning's seed)."""
    from mlflow_steward.tuning import get_family

    return get_family(context.task, member.family).estimator(member.params, context.random_state)


def _stored_frame(context: TuneContext) -> Any | None:
    import mlflow
    import pandas as pd
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(run_id=context.run_id, artifact_path=names.ARTIFACT_OOF_PREDICTIONS)
    except (MlflowException, OSError):
        return None
    return pd.read_parquet(local)


def _check_stored(frame: Any, context: TuneContext, y: np.ndarray, folds: np.ndarray) -> None:
    def fail(what: str) -> None:
        raise StewardInputError(
            msg.OOF_MISALIGNED.format(run_id=context.run_id, data_run_id=context.data_run_id, what=what)
        )

    if len(frame) != len(y):
        fail(f"{len(frame)} rows, the training split has {len(y)}")
    stored = frame["y_true"].to_numpy()
    same = (
        np.allclose(stored.astype(float), y.astype(float))
        if context.task == "regression"
        else np.array_equal(stored.astype(str), y.astype(str))
    )
    if not same:
        fail("the y_true column differs from the training target")
    if not np.array_equal(frame["fold"].to_numpy(), folds):
        fail("the fold column differs from the tuning's folds")


def _stored_member(frame: Any, member: Member, context: TuneContext, classes: np.ndarray | None) -> np.ndarray | None:
    """The member's columns of the stored frame, when it is its family's best trial."""
    best = context.best_params.get("families", {}).get(member.family, {})
    if frame is None or best.get("run_id") != member.run_id:
        return None
    if context.task == "regression" or len(classes) == 2:  # type: ignore[arg-type]
        if member.family not in frame.columns:
            return None
        column = frame[member.family].to_numpy(dtype=float)
        return column if context.task == "regression" else np.column_stack([1.0 - column, column])
    columns = [f"{member.family}[{label}]" for label in classes]  # type: ignore[union-attr]
    if not all(c in frame.columns for c in columns):
        return None
    return frame[columns].to_numpy(dtype=float)


def members_oof(context: TuneContext, data: TrainingData, members: list[Member]) -> OutOfFold:
    """Every member's OOF predictions of the training rows, stored ones first, else recomputed."""
    from sklearn.model_selection import cross_val_predict

    y = data.y_train
    splits = tuning_folds(context, y)
    folds = np.full(len(y), -1, dtype=np.int64)
    for k, (_, valid) in enumerate(splits):
        folds[valid] = k
    classes = None if context.task == "regression" else np.unique(y)
    frame = _stored_frame(context)
    if frame is not None:
        _check_stored(frame, context, y, folds)
    predictions, sources = [], {}
    for member in members:
        stored = _stored_member(frame, member, context, classes)
        if stored is None:
            pipeline = data.make_pipeline(member_estimator(context, member))
            method = "predict" if context.task == "regression" else "predict_proba"
            stored = np.asarray(cross_val_predict(pipeline, data.X_train, y, cv=splits, method=method), dtype=float)
            sources[member.name] = SOURCE_RECOMPUTED
        else:
            sources[member.name] = SOURCE_TUNING
        predictions.append(stored)
    return OutOfFold(predictions=np.stack(predictions), folds=folds, sources=sources, classes=classes)
