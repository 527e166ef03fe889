"""Record the train/test split on the active MLflow run: dataset inputs plus ``steward.*`` tags."""

from __future__ import annotations

import warnings
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import pandas as pd

from mlflow_steward import names
from mlflow_steward.data._spec import DatasetSpec
from mlflow_steward.data._version import dataset_digest, dataset_version
from mlflow_steward.exceptions import StewardInputError

LOG_NO_ACTIVE_RUN = "log_dataset_inputs needs an active MLflow run; call it inside mlflow.start_run()"
LOG_NOT_A_FRAME = "log_dataset_inputs: {which} must be a pandas DataFrame, got {kind}"
LOG_NO_TARGET = "log_dataset_inputs: {which} has no target column {target!r}"
LOG_COLUMNS_DIFFER = "log_dataset_inputs: train and test columns differ: {train} vs {test}"
LOG_BAD_SOURCE = "log_dataset_inputs: MLflow cannot interpret dataset source {source!r}: {reason}"

# MLflow's limit on run tag values (SQL stores); a longer spec goes to the artifact only.
_MAX_TAG_VALUE = 8000
_AMBIGUOUS_SOURCE = "The specified dataset source can be interpreted in multiple ways"


def _full_frame(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Train and test together in index order (for a split of a loaded frame: that frame)."""
    return pd.concat([train, test]).sort_index(kind="stable")


def _default_name(source: str) -> str:
    """``/data/housing.csv.gz`` -> ``housing``."""
    path = PurePosixPath(urlparse(source).path or source)
    stem = path.name.split(".")[0] if path.name else ""
    return stem or "dataset"


def _resolve_source(source: str):
    from mlflow.exceptions import MlflowException

    from mlflow_steward._compat.mlflow import resolve_dataset_source

    try:
        with warnings.catch_warnings():
            # local paths match two equivalent registered sources; MLflow picks the right one
            warnings.filterwarnings("ignore", message=_AMBIGUOUS_SOURCE, category=UserWarning)
            return resolve_dataset_source(source)
    except MlflowException as exc:
        raise StewardInputError(LOG_BAD_SOURCE.format(source=source, reason=exc.message)) from exc


def _check_frames(train: object, test: object, spec: DatasetSpec) -> None:
    for which, frame in (("train", train), ("test", test)):
        if not isinstance(frame, pd.DataFrame):
            raise StewardInputError(LOG_NOT_A_FRAME.format(which=which, kind=type(frame).__name__))
        if spec.target not in frame.columns:
            raise StewardInputError(LOG_NO_TARGET.format(which=which, target=spec.target))
    train_columns, test_columns = list(train.columns), list(test.columns)  # type: ignore[union-attr]
    if train_columns != test_columns:
        raise StewardInputError(LOG_COLUMNS_DIFFER.format(train=train_columns, test=test_columns))


def log_dataset_inputs(
    train: pd.DataFrame,
    test: pd.DataFrame,
    spec: DatasetSpec,
    *,
    source: str | Path,
    name: str | None = None,
) -> dict[str, str]:
    """Log ``train`` and ``test`` as dataset inputs (contexts ``training`` / ``testing``) of the
    active run, tag the run with the digests, source, spec, task and target, and save the spec
    as the artifact ``data/spec.json``.

    The full-data digest is :func:`dataset_digest` of train and test concatenated in index order,
    which equals ``LoadedDataset.digest`` when the split came from ``split_train_test`` on a loaded
    frame. Each dataset is named ``<name>@<full-data version>`` (``name`` defaults to the source's
    file stem), with the split's own version as MLflow digest (MLflow's hashes only 10,000 rows).
    Returns the run tags it set.
    """
    import mlflow
    import mlflow.data

    _check_frames(train, test, spec)
    if mlflow.active_run() is None:
        raise StewardInputError(LOG_NO_ACTIVE_RUN)
    source = str(source)
    mlflow_source = _resolve_source(source)
    full_digest = dataset_digest(_full_frame(train, test))
    version = dataset_version(full_digest)
    dataset_name = f"{name or _default_name(source)}@{version}"
    splits = (
        (train, names.DATASET_CONTEXT_TRAINING, names.TAG_TRAIN_DIGEST),
        (test, names.DATASET_CONTEXT_TESTING, names.TAG_TEST_DIGEST),
    )
    spec_json = spec.to_json()
    tags = {
        names.TAG_DATASET_DIGEST: full_digest,
        names.TAG_DATASET_VERSION: version,
        names.TAG_DATASET_SOURCE: source[:_MAX_TAG_VALUE],
        names.TAG_TASK: spec.task,
        names.TAG_TARGET: spec.target,
    }
    if len(spec_json) <= _MAX_TAG_VALUE:
        tags[names.TAG_SPEC] = spec_json
    for frame, context, digest_tag in splits:
        digest = dataset_digest(frame)
        tags[digest_tag] = digest
        dataset = mlflow.data.from_pandas(
            frame,
            source=mlflow_source,
            targets=spec.target,
            name=dataset_name,
            digest=dataset_version(digest),
        )
        input_tags = {
            names.TAG_DATASET_DIGEST: full_digest,
            names.TAG_DATASET_VERSION: version,
            digest_tag: digest,
        }
        mlflow.log_input(dataset, context=context, tags=input_tags)
    mlflow.set_tags(tags)
    mlflow.log_text(spec_json, names.ARTIFACT_DATASET_SPEC)
    return tags
