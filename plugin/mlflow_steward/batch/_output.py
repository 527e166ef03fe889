"""Where a batch job writes, and what: the output directory, its staging twin, the output columns.

A job writes its part files into a hidden staging directory beside the output
(``.<name>.staging-<job id>``) and renames it to the output only when every part is written, so a
failed job (a refused row in the last chunk, a killed process) leaves no output that looks complete.
An output that already exists is refused before anything runs.

Output columns: the key columns, ``prediction``, ``probability/<class>`` for classifiers, then
``model_name`` and ``model_version`` (the registered version that scored the row).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlflow_steward.batch._model import MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN, PREDICTION, PROBABILITY_PREFIX
from mlflow_steward.exceptions import StewardInputError

OUTPUT_EXISTS = "output {path} already exists; give a new path (nothing was written)"
OUTPUT_INSIDE_INPUT = "output {path} is inside the input {source}; write it elsewhere"
NO_OUTPUT_PARENT = "output {path}: its parent directory {parent} does not exist"
UNKNOWN_KEY = "key column(s) {missing} not in the input {source}; its columns are: {columns}"
KEY_CLASH = "key column {column!r} clashes with an output column of the same name; rename it in the input"
DUPLICATE_KEY = "key column {column!r} is given twice"


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def check_key_columns(keys: list[str] | tuple[str, ...] | None, columns: list[str], source: object) -> list[str]:
    """The key columns the output keeps, checked against the input's columns."""
    keys = [k.strip() for k in (keys or []) if k and k.strip()]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise StewardInputError(DUPLICATE_KEY.format(column=key))
        seen.add(key)
    missing = [k for k in keys if k not in columns]
    if missing:
        shown = ", ".join(columns[:40]) + (" ..." if len(columns) > 40 else "")
        raise StewardInputError(UNKNOWN_KEY.format(missing=", ".join(map(repr, missing)), source=source, columns=shown))
    for key in keys:
        if key in (PREDICTION, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN) or key.startswith(PROBABILITY_PREFIX):
            raise StewardInputError(KEY_CLASH.format(column=key))
    return keys


@dataclass(frozen=True)
class OutputDir:
    """The job's output directory and the staging directory its parts go to first."""

    path: Path
    staging: Path

    @classmethod
    def prepare(cls, path: str | Path, *, source: Path | None = None, job_id: str | None = None) -> OutputDir:
        """Check ``path`` (new, parent exists, not inside the input) and create the staging directory."""
        path = Path(path).absolute()
        if path.exists():
            raise StewardInputError(OUTPUT_EXISTS.format(path=path))
        if not path.parent.is_dir():
            raise StewardInputError(NO_OUTPUT_PARENT.format(path=path, parent=path.parent))
        if source is not None and source.is_dir() and path.is_relative_to(source.absolute()):
            raise StewardInputError(OUTPUT_INSIDE_INPUT.format(path=path, source=source))
        staging = path.parent / f".{path.name}.staging-{job_id or uuid.uuid4().hex[:12]}"
        staging.mkdir()
        return cls(path=path, staging=staging)

    def publish(self) -> Path:
        """Move the finished staging directory into place (an atomic rename on one filesystem)."""
        if self.path.exists():
            raise StewardInputError(OUTPUT_EXISTS.format(path=self.path))
        os.replace(self.staging, self.path)
        return self.path

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def output_frame(
    chunk: pd.DataFrame, outputs: pd.DataFrame, keys: list[str], *, name: str | None, version: str | None
) -> pd.DataFrame:
    """Key columns of ``chunk`` + the model's output columns + the model's name and version."""
    frame = chunk[keys].copy() if keys else pd.DataFrame(index=chunk.index)
    for column in outputs.columns:
        frame[column] = outputs[column].to_numpy()
    frame[MODEL_NAME_COLUMN] = pd.Series([name] * len(frame), index=frame.index, dtype="string")
    frame[MODEL_VERSION_COLUMN] = pd.Series([version] * len(frame), index=frame.index, dtype="string")
    return frame.reset_index(drop=True)
