"""``score_table``: what ``steward score`` does, on either engine.

Every input is checked before anything runs: the input (file or directory, one format), the key
columns, the model (resolved to a version, downloaded, its expected columns present in the input)
and the output (new, parent exists). The engine then writes into a staging directory that becomes
the output only when the whole job succeeded; captures are published the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.batch._engine import PANDAS, ScoreJob, ScoreStats, get_engine
from mlflow_steward.batch._model import BatchModel
from mlflow_steward.batch._output import OutputDir, check_key_columns
from mlflow_steward.batch._source import TableSource
from mlflow_steward.exceptions import StewardInputError

NO_ROWS = "input {path} has no rows to score"


@dataclass(frozen=True)
class ScoreResult:
    """A finished scoring job: where the output is, what scored it, how much and how long."""

    output: Path
    rows: int
    parts: int
    seconds: float
    engine: str
    model: str
    model_name: str | None
    model_version: str | None
    captures: Path | None = None

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        text = (f"scored {self.rows:,} rows with {self.model} on {self.engine} in {self.seconds:.1f} s "
                f"({rate:,.0f} rows/s) -> {self.output} ({self.parts} part file(s))")  # fmt: skip
        if self.captures is not None:
            text += f"; captures -> {self.captures}"
        return text


def check_model_columns(model: BatchModel, columns: list[str]) -> None:
    """Refuse an input that lacks a column the model expects, with the server's message."""
    schema = model.schema()
    if schema is None or all(c in columns for c in schema.columns):
        return
    from mlflow_steward.serving import validate_frame

    validate_frame(pd.DataFrame({c: [None] for c in columns}), schema)  # one empty row: the missing-columns message


def score_table(
    model: str,
    input_path: str | Path,
    output_path: str | Path,
    *,
    engine: str = PANDAS,
    key_columns: list[str] | tuple[str, ...] | None = None,
    capture_dir: str | Path | None = None,
    chunk_rows: int | None = None,
    spark: Any = None,
    master: str | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Score every row of a CSV/Parquet input (file or directory) with a registered model.

    ``model``: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``NAME[@ALIAS]`` (default alias
    ``production``), ``runs:/...`` or a model directory. Output: Parquet part files under
    ``output_path`` with the key columns, ``prediction`` (+ ``probability/<class>``), ``model_name`` and
    ``model_version``. ``capture_dir``: also write every scored row as captures there (serving's
    Parquet capture layout), for monitoring. ``engine``: ``pandas`` (chunks of ``chunk_rows``) or
    ``spark`` (``spark``: a session to use; else the active one or a new one on ``master``).
    """
    source = TableSource.open(input_path)
    columns = source.columns()
    keys = check_key_columns(key_columns, columns, source.path)
    options: dict[str, Any] = {} if chunk_rows is None else {"chunk_rows": chunk_rows}
    if engine == PANDAS:
        options["progress"] = progress
    else:
        options.update(spark=spark, master=master)
    runner = get_engine(engine, **options)  # an unknown engine or a bad chunk size fails here
    if source.count_rows() == 0:
        raise StewardInputError(NO_ROWS.format(path=source.path))
    resolved = BatchModel.resolve(model)
    check_model_columns(resolved, columns)
    captures = None
    if capture_dir is not None:
        from mlflow_steward.batch._captures import BatchCaptures

        captures = BatchCaptures.prepare(capture_dir, resolved)
    output = OutputDir.prepare(output_path, source=source.path)
    job = ScoreJob(source=source, model=resolved, keys=keys, output=output, captures=captures)
    if captures is not None:
        captures.start(job)
    try:
        stats: ScoreStats = runner.score(job)
        if stats.rows == 0:
            raise StewardInputError(NO_ROWS.format(path=source.path))
        published = output.publish()
        written = captures.publish() if captures is not None else None
    except BaseException:
        output.discard()
        if captures is not None:
            captures.discard()
        raise
    return ScoreResult(
        output=published, rows=stats.rows, parts=stats.parts, seconds=stats.seconds, engine=stats.engine,
        model=resolved.describe(), model_name=resolved.name, model_version=resolved.version, captures=written,
    )  # fmt: skip
