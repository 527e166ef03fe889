"""One interface, two engines: what a batch job asks of pandas (one process, chunked) or Spark.

* :meth:`Engine.score` scores a :class:`ScoreJob` (input, model, key columns, output, captures) and
  returns its :class:`ScoreStats`;
* :meth:`Engine.map_parts` applies a function to every part of an input (a chunk on pandas, an
  Arrow batch of a partition on Spark), optionally with the model's outputs on that part, and
  returns the results on the driver. Monitoring uses it to profile a window part by part and merge
  the profiles: the same statistics code runs in both engines.

:func:`get_engine` builds one by name; pyspark is imported only when the Spark engine is asked for.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from mlflow_steward.batch._model import BatchModel, ModelOutputs
from mlflow_steward.batch._output import OutputDir
from mlflow_steward.batch._source import TableSource
from mlflow_steward.exceptions import StewardInputError

PANDAS = "pandas"
SPARK = "spark"
ENGINES = (PANDAS, SPARK)
UNKNOWN_ENGINE = "--engine must be one of {engines}, got {value!r}"

#: ``fn(part, outputs)`` -> a small picklable result (e.g. a profile as JSON); ``outputs`` is None
#: when no model is given.
PartFunction = Callable[[pd.DataFrame, ModelOutputs | None], Any]
#: ``combine(a, b)`` -> one result for both (e.g. two profiles merged), applied in input order.
Combine = Callable[[Any, Any], Any]


@dataclass
class ScoreJob:
    """Everything one scoring job needs, checked before any engine runs."""

    source: TableSource
    model: BatchModel
    keys: list[str]
    output: OutputDir
    captures: Any = None  # a batch capture writer (``_captures.BatchCaptures``) or None
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    scored_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class ScoreStats:
    """What a job did: rows scored, parts written, seconds, engine."""

    rows: int
    parts: int
    seconds: float
    engine: str


class Engine(ABC):
    """A way to run batch work over a :class:`TableSource`."""

    name: str = ""

    @abstractmethod
    def score(self, job: ScoreJob) -> ScoreStats:
        """Score every row of ``job.source`` into ``job.output.staging`` (and captures)."""

    @abstractmethod
    def map_parts(self, source: TableSource, fn: PartFunction, *, model: BatchModel | None = None,
                  columns: list[str] | None = None, combine: Combine | None = None) -> list[Any]:  # fmt: skip
        """``fn`` on every part of ``source`` (with the model's outputs when ``model`` is given), the
        results in input order. With ``combine(a, b)``, results are folded where they are made (one
        per Spark partition, one in all on pandas), so the driver never holds one per part."""

    def close(self) -> None:
        """Release what the engine started (nothing for pandas; Spark keeps a session it did not create)."""


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def get_engine(name: str, **options: Any) -> Engine:
    """``pandas`` (``chunk_rows``, ``progress``) or ``spark`` (``spark``: a session, ``master``,
    ``chunk_rows``)."""
    if name == PANDAS:
        from mlflow_steward.batch._pandas import PandasEngine

        return PandasEngine(**options)
    if name == SPARK:
        from mlflow_steward.batch._spark import SparkEngine

        return SparkEngine(**options)
    raise StewardInputError(UNKNOWN_ENGINE.format(engines=", ".join(ENGINES), value=name))
