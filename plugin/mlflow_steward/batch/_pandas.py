"""The pandas engine: one process, the input streamed in chunks, memory bounded by the chunk.

Each chunk is read (:meth:`TableSource.iter_frames`), scored through the model's pyfunc (the
server's checks included), and written as one Parquet part file into the staging directory before
the next is read; nothing accumulates but counters. A refused chunk stops the job with the model's
message, its row number turned into the row of the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pandas as pd

from mlflow_steward.batch._engine import PANDAS, Combine, Engine, PartFunction, ScoreJob, ScoreStats, Timer
from mlflow_steward.batch._model import BatchModel, ModelOutputs, refused_message
from mlflow_steward.batch._output import output_frame, part_name
from mlflow_steward.batch._source import DEFAULT_CHUNK_ROWS, TableSource, check_chunk_rows
from mlflow_steward.exceptions import StewardInputError

REFUSED = "{message} (input {path})"
KEY_TYPE_CHANGED = (
    "key column {column!r} changes type in the input at row {row} ({before} before, {after} here); "
    "give the CSV a consistent column or convert it to Parquet"
)
_ROW = re.compile(r"in row (\d+)$")


def refused_in_chunk(exc: BaseException, start: int, path: object) -> StewardInputError | None:
    """The model's refusal of a chunk as our error, its ``in row N`` counted from the input's start."""
    message = refused_message(exc)
    if message is None:
        return None
    message = _ROW.sub(lambda m: f"in row {start + int(m.group(1))}", message)
    return StewardInputError(REFUSED.format(message=message, path=path))


class _Progress:
    """A rich progress bar over rows (total known for Parquet), or nothing."""

    def __init__(self, enabled: bool, total: int | None, label: str) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("rows"), TimeElapsedColumn(), transient=True)  # fmt: skip
            self.task = self.bar.add_task(label, total=total)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def advance(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, rows)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()


class PandasEngine(Engine):
    """Chunked scoring and part-wise work in this process."""

    name = PANDAS

    def __init__(self, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: bool = False) -> None:
        self.chunk_rows = check_chunk_rows(chunk_rows)
        self.progress = progress

    def _scored(self, source: TableSource, model: BatchModel | None, columns: list[str] | None,
                label: str) -> Iterator[tuple[pd.DataFrame, ModelOutputs | None]]:  # fmt: skip
        with _Progress(self.progress, source.count_rows(), label) as progress:
            for chunk in source.iter_frames(self.chunk_rows, columns=columns):
                outputs = None
                if model is not None:
                    try:
                        outputs = model.predict(chunk)
                    except Exception as exc:
                        refused = refused_in_chunk(exc, int(chunk.index[0]), source.path)
                        if refused is None:
                            raise
                        raise refused from None
                yield chunk, outputs
                progress.advance(len(chunk))

    def score(self, job: ScoreJob) -> ScoreStats:
        import pyarrow as pa
        import pyarrow.parquet as pq

        timer = Timer()
        rows = parts = 0
        schema = None
        for chunk, outputs in self._scored(job.source, job.model, None, f"scoring {job.model.describe()}"):
            frame = output_frame(chunk, outputs.frame(chunk.index), job.keys, name=job.model.name,
                                 version=job.model.version)  # fmt: skip
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if schema is None:
                schema = table.schema
            elif table.schema != schema:
                table = _conform(table, schema, job.keys, start=int(chunk.index[0]))
            pq.write_table(table, job.output.staging / part_name(parts), compression="zstd")
            if job.captures is not None:
                job.captures.write_part(parts, chunk, outputs)
            rows += len(chunk)
            parts += 1
        return ScoreStats(rows=rows, parts=parts, seconds=timer.seconds(), engine=self.name)

    def map_parts(self, source: TableSource, fn: PartFunction, *, model: BatchModel | None = None,
                  columns: list[str] | None = None, combine: Combine | None = None) -> list[Any]:  # fmt: skip
        results: list[Any] = []
        for chunk, outputs in self._scored(source, model, columns, "reading"):
            result = fn(chunk, outputs)
            results = [combine(results[0], result)] if combine is not None and results else [*results, result]
        return results


def _conform(table, schema, keys: list[str], *, start: int):
    """A later chunk's table in the first chunk's schema (CSV chunks infer types one by one)."""
    import pyarrow as pa

    columns = []
    for field in schema:
        column = table.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise StewardInputError(KEY_TYPE_CHANGED.format(column=field.name, row=start, before=field.type,
                                                                after=column.type)) from None  # fmt: skip
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)
