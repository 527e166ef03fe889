"""A batch job's scored rows as captures, in serving's Parquet capture layout, for monitoring to read.

``--capture-dir DIR`` makes ``DIR`` a Parquet capture directory (``STEWARD_CAPTURE_PATH=parquet:DIR``
on servers writes the same layout), so ``steward capture export/label`` and monitoring read a batch
like served traffic. Records are made by serving's own code (:func:`~mlflow_steward.serving.capture_rows`:
features as the exact JSON the model saw, after the same checks) and written by its Parquet sink.

What a request is in a batch: with key columns, every row is its own request whose ``request_id`` is
the row's key (several keys joined by ``|``), so labels that arrive later join by the key; without
keys, a chunk (an Arrow batch on Spark) is one request ``<job id>-<part>`` with rows numbered in it.
Every row of a job has the job's start time as ``ts``.

Captures are staged like the output: written under ``DIR/.staging-<job id>/<part>/`` and moved into
``DIR/captures/date=.../`` only when the whole job succeeded. On Spark each partition writes its own
staging folder and wipes it when a task attempt (re)starts, so a retried task leaves one copy.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlflow_steward.batch._model import BatchModel, ModelOutputs
from mlflow_steward.exceptions import StewardInputError

CAPTURES_DIR = "captures"  # serving's Parquet sink layout: DIR/captures/date=YYYY-MM-DD/*.parquet
KEY_SEPARATOR = "|"
NOT_A_CAPTURE_DIR = "--capture-dir {path}: {detail}"
PARQUET_PREFIX = "parquet:"


def _request_ids(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    texts = [frame[k].astype(object).where(frame[k].notna(), "").map(str).tolist() for k in keys]
    return [KEY_SEPARATOR.join(parts) for parts in zip(*texts)]


@dataclass(frozen=True)
class CaptureSpec:
    """What turns a scored part into captured requests: small and picklable (it travels to executors)."""

    staging: Path
    job_id: str
    timestamp: str
    keys: tuple[str, ...]
    identity: tuple[str | None, str | None, str | None, str | None]  # name, version, model_id, run_id
    features: tuple[dict[str, str], ...] | None  # the model's steward.json features (None: other models)

    def requests(self, frame: pd.DataFrame, outputs: ModelOutputs, part: str) -> list:
        """The captured requests of one scored part (see the module docstring)."""
        from mlflow_steward.serving import CapturedRequest, FeatureSchema, ModelIdentity, capture_rows, validate_frame

        seen = validate_frame(frame, FeatureSchema.from_dict(list(self.features))) if self.features else frame
        probabilities = None if outputs.probabilities is None else outputs.probabilities.to_numpy()
        classes = None if outputs.probabilities is None else list(outputs.probabilities.columns)
        name, version, model_id, run_id = self.identity
        identity = ModelIdentity(name=name, version=version, model_id=model_id, run_id=run_id)
        whole = capture_rows(seen, outputs.predictions, request_id=f"{self.job_id}-{part}", identity=identity,
                             probabilities=probabilities, classes=classes, timestamp=self.timestamp)  # fmt: skip
        if not self.keys:
            return [whole]
        _, ts, status, *model, _ = whole.request
        return [
            CapturedRequest(request_id=rid, request=(rid, ts, status, *model, 1), rows=[(0, *row[1:])])
            for rid, row in zip(_request_ids(frame, list(self.keys)), whole.rows)
        ]

    def write(self, folder: str, frame: pd.DataFrame, outputs: ModelOutputs, part: str) -> None:
        """Write one part's captures into the staging folder ``folder`` (serving's Parquet sink)."""
        from mlflow_steward.serving import open_sink

        open_sink(f"{PARQUET_PREFIX}{self.staging / folder}").write(self.requests(frame, outputs, part))


@dataclass
class BatchCaptures:
    """Where a job's captures go: checked before the job, staged during it, published after it."""

    root: Path
    model: BatchModel
    spec: CaptureSpec | None = None

    @classmethod
    def prepare(cls, capture_dir: str | Path, model: BatchModel) -> BatchCaptures:
        """Check the directory (new, empty, or a Parquet capture directory already)."""
        text = str(capture_dir)
        root = Path(text[len(PARQUET_PREFIX):].removeprefix("//") if text.startswith(PARQUET_PREFIX) else text)
        if root.exists() and not root.is_dir():
            raise StewardInputError(NOT_A_CAPTURE_DIR.format(path=root, detail="is a file, not a directory"))
        if root.is_dir() and any(root.iterdir()) and not (root / CAPTURES_DIR).is_dir():
            raise StewardInputError(NOT_A_CAPTURE_DIR.format(
                path=root, detail=f"exists and is not a Parquet capture directory (no {CAPTURES_DIR}/ inside)"))  # fmt: skip
        if not root.is_dir() and not root.parent.is_dir():
            raise StewardInputError(NOT_A_CAPTURE_DIR.format(path=root, detail=f"parent {root.parent} does not exist"))
        return cls(root=root.absolute(), model=model)

    @property
    def staging(self) -> Path | None:
        return None if self.spec is None else self.spec.staging

    def start(self, job) -> None:
        from mlflow_steward.serving import utc_timestamp

        model = self.model
        staging = self.root / f".staging-{job.job_id}"
        staging.mkdir(parents=True)
        features = tuple(model.manifest["features"]) if model.is_steward_model else None
        self.spec = CaptureSpec(staging=staging, job_id=job.job_id, timestamp=utc_timestamp(job.scored_at),
                                keys=tuple(job.keys), identity=(model.name, model.version, model.model_id, model.run_id),
                                features=features)  # fmt: skip

    def write_part(self, index: int, chunk: pd.DataFrame, outputs: ModelOutputs) -> None:
        """The pandas engine's hook: one chunk."""
        assert self.spec is not None, "start() first"
        self.spec.write(f"{index:05d}", chunk, outputs, f"{index:05d}")

    def spark_stage(self, wide, *, names: list[str], inputs: list[str], fields: list[str]):
        """The Spark engine's hook: the output columns ``names`` of ``wide``, after a pass that writes
        each batch's captures (see ``_spark_captures``)."""
        from mlflow_steward.batch._spark_captures import capture_stage

        assert self.spec is not None, "start() first"
        return capture_stage(self.spec, wide, names=names, inputs=inputs, fields=fields)

    # -- publishing ------------------------------------------------------------------------------
    def publish(self) -> Path:
        """Move every staged capture file into ``DIR/captures/date=.../``."""
        staging = self.staging
        assert staging is not None
        for file in sorted(staging.glob(f"*/{CAPTURES_DIR}/*/*.parquet")):
            folder = file.parent.parent.parent.name
            target = self.root / CAPTURES_DIR / file.parent.name
            target.mkdir(parents=True, exist_ok=True)
            os.replace(file, target / f"batch-{self.spec.job_id}-{folder}-{file.name}")
        shutil.rmtree(staging, ignore_errors=True)
        return self.root

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def outputs_of(batch: pd.DataFrame, fields: list[str], columns: list[str]) -> ModelOutputs:
    """A Spark batch's model outputs back as :class:`ModelOutputs` (``fields``: prediction first, then
    ``probability/<class>``; ``columns``: where they are in ``batch``)."""
    from mlflow_steward.batch._model import PROBABILITY_PREFIX

    predictions = batch[columns[0]].to_numpy()
    probabilities = None
    if len(fields) > 1:
        probabilities = pd.DataFrame({f[len(PROBABILITY_PREFIX):]: np.asarray(batch[c], dtype="float64")
                                      for f, c in zip(fields[1:], columns[1:])})  # fmt: skip
    return ModelOutputs(predictions=predictions, probabilities=probabilities)

