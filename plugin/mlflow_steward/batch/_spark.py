"""The Spark engine: score with ``mlflow.pyfunc.spark_udf``, run part-wise work with ``mapInPandas``.

The session is the active one when there is one (``spark-submit``, a notebook on a managed
service), else a new one on ``master`` (default ``local[*]``; see :mod:`._session`). The model runs
on the executors exactly as MLflow loads it anywhere (``env_manager="local"``: the executors'
Python environment, which must hold the model's requirements), so its own checks and cleaning run
there. A refused batch fails the Spark job; :func:`._session.refusal_in` finds the model's message
in the worker's traceback and the job ends with that message, naming the column.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow_steward import names
from mlflow_steward.batch import _session
from mlflow_steward.batch._engine import SPARK, Combine, Engine, PartFunction, ScoreJob, ScoreStats, Timer
from mlflow_steward.batch._model import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTION,
    TASK_CLASSIFICATION,
    BatchModel,
)
from mlflow_steward.batch._source import TableSource, check_chunk_rows

DEFAULT_SPARK_CHUNK_ROWS = 10_000  # Spark's own default Arrow batch for pandas UDFs
ARROW_BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"
OUTPUT = "__steward_output"
RESULT = "result"


def _prediction_type(model: BatchModel) -> str:
    """The Spark SQL type of the model's predictions, from its output signature (labels are often text)."""
    from mlflow.models import Model

    schema = Model.load(str(model.local_dir / "MLmodel")).get_output_schema()
    if schema is None:
        return "double"
    spec = schema.inputs[0]
    kind = str(getattr(spec, "type", None) or getattr(spec, "dtype", ""))
    if "int" in kind:
        return "long"
    if "float" in kind or "double" in kind:
        return "double"
    if "bool" in kind:
        return "boolean"
    return "string"


class SparkEngine(Engine):
    """Scoring and part-wise work on a Spark session (``local[2]`` in the tests)."""

    name = SPARK

    def __init__(self, *, spark: Any = None, master: str | None = None, chunk_rows: int | None = None,
                 log_level: str | None = None) -> None:  # fmt: skip
        self._chunk_given = chunk_rows is not None
        self.chunk_rows = check_chunk_rows(chunk_rows) if chunk_rows is not None else DEFAULT_SPARK_CHUNK_ROWS
        self._given = spark
        self.master = master
        self.log_level = log_level
        self._spark = None

    @property
    def spark(self):
        if self._spark is None:
            self._spark = self._given or _session.spark_session(self.master, log_level=self.log_level)
            if not self._chunk_given:  # the session's own setting (Spark's default: 10,000)
                self.chunk_rows = int(self._spark.conf.get(ARROW_BATCH, str(DEFAULT_SPARK_CHUNK_ROWS)))
        return self._spark

    @contextmanager
    def _action(self, source: object) -> Iterator[None]:
        """Run a Spark action: with ``chunk_rows`` as the Arrow batch size for this action only (the
        session's setting is put back after, so a session passed in keeps its own), and a job the
        model refused turned into one StewardInputError."""
        spark = self.spark
        before = spark.conf.get(ARROW_BATCH, None) if self._chunk_given else None
        if self._chunk_given:
            spark.conf.set(ARROW_BATCH, str(self.chunk_rows))
        try:
            with _session.refusals(source=source, chunk_rows=self.chunk_rows):
                yield
        finally:
            if self._chunk_given:
                if before is None:
                    spark.conf.unset(ARROW_BATCH)
                else:
                    spark.conf.set(ARROW_BATCH, before)

    def read(self, source: TableSource, columns: list[str] | None = None):
        """The input as a Spark DataFrame (Spark's CSV reader infers types over the whole input)."""
        fmt, options = source.spark_reader_args()
        frame = self.spark.read.format(fmt).options(**options).load(str(source.path))
        return frame.select(*[f"`{c}`" for c in columns]) if columns is not None else frame

    # -- the model as a Spark column ------------------------------------------------------------
    def _model_column(self, model: BatchModel, frame, workdir: Path):
        """``(column, output fields)``: a struct of the model's outputs for every row of ``frame``."""
        import mlflow.pyfunc
        from pyspark.sql import functions as F

        inputs = model.feature_columns or tuple(frame.columns)
        struct = F.struct(*[F.col(f"`{c}`") for c in inputs])
        extra_env = {names.ENV_CAPTURE_PATH: ""}  # the model's own capture stays off on the executors
        prediction_type = _prediction_type(model)
        classes = model.classes() if model.task == TASK_CLASSIFICATION else ()
        with _quiet_mlflow():
            if classes:
                from mlflow_steward.batch._adapter import save_probability_model

                scored_dir = save_probability_model(model.local_dir, workdir / "with-probabilities")
                fields = [(PREDICTION, prediction_type), *((f"probability/{c}", "double") for c in classes)]
                result_type = ", ".join(f"`{name}` {kind}" for name, kind in fields)
                udf = mlflow.pyfunc.spark_udf(self.spark, str(scored_dir), result_type=result_type,
                                              env_manager="local", extra_env=extra_env)  # fmt: skip
                return udf(struct), [name for name, _ in fields]
            udf = mlflow.pyfunc.spark_udf(self.spark, str(model.local_dir), result_type=prediction_type,
                                          env_manager="local", extra_env=extra_env)  # fmt: skip
            return F.struct(udf(struct).alias(PREDICTION)), [PREDICTION]

    # -- scoring --------------------------------------------------------------------------------
    def score(self, job: ScoreJob) -> ScoreStats:
        from pyspark.sql import functions as F

        timer = Timer()
        frame = self.read(job.source)
        with tempfile.TemporaryDirectory(prefix="steward-spark-") as workdir:
            column, fields = self._model_column(job.model, frame, Path(workdir))
            scored = frame.withColumn(OUTPUT, column)
            selected = [F.col(f"`{k}`") for k in job.keys]
            selected += [F.col(OUTPUT).getField(name).alias(name) for name in fields]
            selected += [F.lit(job.model.name).cast("string").alias(MODEL_NAME_COLUMN),
                         F.lit(job.model.version).cast("string").alias(MODEL_VERSION_COLUMN)]  # fmt: skip
            if job.captures is None:
                output = scored.select(*selected)
            else:  # the model's inputs ride along, hidden, to the pass that writes captures
                from mlflow_steward.batch._spark_captures import feature_columns

                inputs = list(job.model.feature_columns or frame.columns)
                hidden = [F.col(f"`{c}`").alias(h) for c, h in feature_columns(inputs)]
                names = [*job.keys, *fields, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN]
                output = job.captures.spark_stage(scored.select(*selected, *hidden), names=names, inputs=inputs,
                                                  fields=fields)  # fmt: skip
            with self._action(job.source.path):
                output.write.mode("overwrite").option("compression", "zstd").parquet(str(job.output.staging))
        rows, parts = _written(job.output.staging)
        return ScoreStats(rows=rows, parts=parts, seconds=timer.seconds(), engine=self.name)

    def map_parts(self, source: TableSource, fn: PartFunction, *, model: BatchModel | None = None,
                  columns: list[str] | None = None, combine: Combine | None = None) -> list[Any]:  # fmt: skip
        import cloudpickle
        from pyspark.sql import functions as F

        frame = self.read(source)
        kept = list(columns) if columns is not None else list(frame.columns)
        with tempfile.TemporaryDirectory(prefix="steward-spark-") as workdir:
            fields: list[str] = []
            if model is not None:
                column, fields = self._model_column(model, frame, Path(workdir))
                frame = frame.withColumn(OUTPUT, column)
                frame = frame.select(*[F.col(f"`{c}`") for c in kept],
                                     *[F.col(OUTPUT).getField(n).alias(_field(i)) for i, n in enumerate(fields)])  # fmt: skip
            else:
                frame = frame.select(*[F.col(f"`{c}`") for c in kept])
            apply = _part_applier(fn, kept, fields, combine)
            with self._action(source.path):
                rows = frame.mapInPandas(apply, schema=f"{RESULT} binary").collect()
        return [cloudpickle.loads(row[RESULT]) for row in rows]


def _part_applier(fn: PartFunction, kept: list[str], fields: list[str], combine: Combine | None):
    """The ``mapInPandas`` function: ``fn`` on each Arrow batch of a partition, its pickled result as
    one row (with ``combine``: one row per partition, the batches' results folded in order)."""
    columns = [_field(i) for i in range(len(fields))]

    def apply(batches):
        import cloudpickle
        import pandas as pd

        from mlflow_steward.batch._captures import outputs_of

        folded: list[Any] = []
        for batch in batches:
            if len(batch) == 0:
                continue
            result = fn(batch[kept], outputs_of(batch, fields, columns) if fields else None)
            if combine is None:
                yield pd.DataFrame({RESULT: [cloudpickle.dumps(result)]})
            else:
                folded = [combine(folded[0], result) if folded else result]
        if folded:
            yield pd.DataFrame({RESULT: [cloudpickle.dumps(folded[0])]})

    return apply


def _field(index: int) -> str:
    return f"{OUTPUT}_{index}"


def _written(directory: Path) -> tuple[int, int]:
    """Rows and part files Spark wrote into ``directory`` (from the Parquet footers)."""
    import pyarrow.dataset as ds

    files = sorted(p for p in directory.glob("*.parquet"))
    if not files:
        return 0, 0
    return int(ds.dataset([str(f) for f in files], format="parquet").count_rows()), len(files)


class _quiet_mlflow:
    """MLflow warns on every ``spark_udf(env_manager="local")`` and saved python model; the choice is
    deliberate here (the executors' environment is the job's)."""

    def __enter__(self):
        self.logger = logging.getLogger("mlflow")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)
