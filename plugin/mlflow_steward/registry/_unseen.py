"""Which test rows the gate may score: only rows that neither model was trained on.

Two versions trained on different splits of the same data (another seed, another test size) share
rows: the challenger's test set is then largely the champion's training set, the champion looks far
better than it is, and an equal challenger is rejected. So each version records the rows it was
trained on (tag ``steward.train_data_uri``, the Parquet artifact of its data run's training split;
see :func:`~mlflow_steward.registry.register_candidate`), and the gate drops every test row equal (in
the target and every feature) to a training row of either model before scoring.

Where a version's training rows come from, in order (versions registered before the tag existed
fall back to the later ones):

1. the tag ``steward.train_data_uri``;
2. the ``data/train.parquet`` of the data run named by its training run (``steward.data_run_id``);
3. the ``data/train.parquet`` beside its recorded test set (``runs:/<data run>/data/test.parquet``);
4. unknown. Then the version is trusted only where it vouches for the rows itself: on its own
   recorded test set, or on a test set the caller passed explicitly (``data=``). Otherwise the
   gate refuses (:class:`StewardGateError`, which ``force=True`` overrides).

When that leaves fewer than ``GateConfig.min_unseen_rows`` rows (default 100), the gate refuses
instead of deciding (a test set that was small to begin with and overlaps nothing is scored as
before, down to the gate's minimum of 10 rows).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlflow_steward import names
from mlflow_steward.exceptions import StewardGateError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import download
from mlflow_steward.registry._decision import Check
from mlflow_steward.registry._scoring import TestSet

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

_RUN_ARTIFACT = re.compile(r"^runs:/(?P<run>[^/]+)/(?P<path>.+)$")

RECORDED = "recorded"
FROM_DATA_RUN = "data run"
BESIDE_TEST_SET = "beside its test set"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class TrainingRows:
    """Where one version's training rows are (``source`` None when unknown) and how that was found."""

    version: str
    source: str | None
    how: str  # RECORDED, FROM_DATA_RUN, BESIDE_TEST_SET or UNKNOWN
    test_data_uri: str | None  # the version's own recorded test set


def run_artifact(uri: str) -> tuple[str, str] | None:
    """``runs:/<run>/<path>`` -> (run, path), else None."""
    match = _RUN_ARTIFACT.match(uri or "")
    return (match["run"], match["path"]) if match else None


def artifact_exists(client: MlflowClient, run_id: str, path: str) -> bool:
    """Whether run ``run_id`` has the artifact file ``path`` (False for an unknown run)."""
    from mlflow.exceptions import MlflowException

    parent = str(Path(path).parent) if "/" in path else None
    try:
        return any(f.path == path and not f.is_dir for f in client.list_artifacts(run_id, parent))
    except MlflowException:
        return False


def sibling_train_uri(client: MlflowClient, test_data_uri: str | None) -> str | None:
    """``runs:/X/data/train.parquet`` when the test set is ``runs:/X/data/test.parquet`` and the
    training split is there too (the clean step's layout), else None."""
    parts = run_artifact(test_data_uri or "")
    if parts is None or parts[1] != names.ARTIFACT_TEST_DATA:
        return None
    if not artifact_exists(client, parts[0], names.ARTIFACT_TRAIN_DATA):
        return None
    return f"runs:/{parts[0]}/{names.ARTIFACT_TRAIN_DATA}"


def training_rows(client: MlflowClient, mv: ModelVersion) -> TrainingRows:
    """Where version ``mv`` says (or its runs say) it was trained; see the module docstring."""
    tags = mv.tags or {}
    version, test_uri = str(mv.version), tags.get(names.TAG_TEST_DATA_URI)
    if tags.get(names.TAG_TRAIN_DATA_URI):
        return TrainingRows(version, tags[names.TAG_TRAIN_DATA_URI], RECORDED, test_uri)
    if mv.run_id:
        try:
            data_run = client.get_run(mv.run_id).data.tags.get(names.TAG_DATA_RUN)
        except Exception:  # a deleted training run: try the next source
            data_run = None
        if data_run and artifact_exists(client, data_run, names.ARTIFACT_TRAIN_DATA):
            return TrainingRows(version, f"runs:/{data_run}/{names.ARTIFACT_TRAIN_DATA}", FROM_DATA_RUN, test_uri)
    sibling = sibling_train_uri(client, test_uri)
    if sibling is not None:
        return TrainingRows(version, sibling, BESIDE_TEST_SET, test_uri)
    return TrainingRows(version, None, UNKNOWN, test_uri)


def _read_frame(path: str) -> pd.DataFrame:
    import pandas as pd

    lower = path.lower()
    if lower.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, skipinitialspace=True, low_memory=False)
    return pd.read_parquet(path)


def load_training_frame(client: MlflowClient, name: str, rows: TrainingRows) -> pd.DataFrame:
    """The training rows as a frame (StewardGateError naming the version when unreadable)."""
    assert rows.source is not None
    with tempfile.TemporaryDirectory(prefix="steward-train-") as tmp:
        try:
            return _read_frame(download(client, rows.source, tmp))
        except Exception as exc:
            raise StewardGateError(
                msg.TRAINING_ROWS_UNREADABLE.format(source=rows.source, version=rows.version, name=name, error=exc)
            ) from exc


def row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of ``frame[columns]``, equal for equal values whatever the dtype a
    file gave them (numbers as float64, everything else as text; missing stays missing)."""
    import pandas as pd

    canonical = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            canonical[column] = pd.Series(
                values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan), index=frame.index
            )
        else:
            canonical[column] = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    return pd.util.hash_pandas_object(pd.DataFrame(canonical), index=False).to_numpy(dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class Unseen:
    """The test set cut to the rows neither model trained on, and the check that says so."""

    test: TestSet
    check: Check


def _seen_by(client: MlflowClient, name: str, rows: TrainingRows, test: TestSet, columns: list[str]) -> np.ndarray:
    """Mask of test rows equal to one of the version's training rows (on the columns both have)."""
    train = load_training_frame(client, name, rows)
    shared = [c for c in columns if c in train.columns]
    if not shared:
        return np.zeros(len(test.frame), dtype=bool)
    return np.isin(row_keys(test.frame, shared), row_keys(train, shared))


def restrict_to_unseen(
    client: MlflowClient,
    name: str,
    test: TestSet,
    versions: list[TrainingRows],
    *,
    test_data_uri: str | None,
    data_given: bool,
    min_rows: int,
) -> Unseen:
    """``test`` without the rows any of ``versions`` was trained on (challenger first, then champion).

    ``test_data_uri`` is the recorded test set in use (None when ``data_given``). Raises
    :class:`StewardGateError` for a version whose training rows are unknown and who does not vouch
    for this test set, and when fewer than ``min_rows`` rows remain.
    """
    columns = [*test.features().columns, test.spec.target]
    seen = np.zeros(len(test.frame), dtype=bool)
    parts: list[str] = []
    for rows in versions:
        if rows.source is None:
            vouches = data_given or (test_data_uri is not None and rows.test_data_uri == test_data_uri)
            if not vouches:
                raise StewardGateError(
                    msg.TRAINING_ROWS_UNKNOWN.format(
                        version=rows.version, name=name, tag=names.TAG_TRAIN_DATA_URI,
                        artifact=names.ARTIFACT_TRAIN_DATA, source=test.source,
                    )
                )
            why = "the test set passed in" if data_given else "its own recorded test set"
            parts.append(f"version {rows.version}: training rows unknown, trusted on {why}")
            continue
        mask = _seen_by(client, name, rows, test, columns)
        parts.append(f"{int(mask.sum()):,} in the training set of version {rows.version}")
        seen |= mask
    unseen, total = int((~seen).sum()), len(test.frame)
    detail = "; ".join(parts)
    if unseen < min(min_rows, total):  # a small test set that overlaps nothing is decided as before
        models = " or ".join(f"version {rows.version}" for rows in versions)
        raise StewardGateError(
            msg.TOO_FEW_UNSEEN.format(
                unseen=unseen, total=total, source=test.source, models=models, name=name, detail=detail,
                minimum=min_rows,
            )
        )
    kept = test.frame.loc[~seen].reset_index(drop=True)
    check = Check(
        "unseen rows", True,
        f"scored on the {unseen:,} of {total:,} test rows that neither model was trained on ({detail})",
    )
    return Unseen(TestSet(kept, test.spec, test.source), check)
