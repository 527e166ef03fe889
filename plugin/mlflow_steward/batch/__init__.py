"""Batch work over large tables, on one machine (pandas, chunked) or on Spark, behind one interface.

* :func:`score_table` is ``steward score``: score a CSV/Parquet file or directory of partitions with a
  registered model (alias resolved to a version first), write the key columns, ``prediction``
  (+ ``probability/<class>``), ``model_name`` and ``model_version`` as Parquet part files, and
  optionally every scored row as captures (serving's Parquet capture layout) for monitoring.
* :func:`get_engine` gives an :class:`Engine`: ``pandas`` streams the input in bounded chunks; ``spark``
  scores with ``mlflow.pyfunc.spark_udf(env_manager="local")`` and runs part-wise work with
  ``mapInPandas``. :meth:`Engine.map_parts` is how monitoring profiles a window part by part on
  either engine with the same code, then merges the parts.
* :func:`spark_session`: the active session, or a local one set up for this package.

Importing this package imports neither MLflow nor pyspark; the Spark engine imports pyspark on use.
"""

from mlflow_steward.batch._engine import ENGINES, PANDAS, SPARK, Engine, PartFunction, ScoreJob, ScoreStats, get_engine
from mlflow_steward.batch._model import (
    MODEL_NAME_COLUMN,
    MODEL_VERSION_COLUMN,
    PREDICTION,
    PROBABILITY_PREFIX,
    BatchModel,
    ModelOutputs,
)
from mlflow_steward.batch._score import ScoreResult, score_table
from mlflow_steward.batch._session import spark_session
from mlflow_steward.batch._source import DEFAULT_CHUNK_ROWS, TableSource

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "ENGINES",
    "MODEL_NAME_COLUMN",
    "MODEL_VERSION_COLUMN",
    "PANDAS",
    "PREDICTION",
    "PROBABILITY_PREFIX",
    "SPARK",
    "BatchModel",
    "Engine",
    "ModelOutputs",
    "PartFunction",
    "ScoreJob",
    "ScoreResult",
    "ScoreStats",
    "TableSource",
    "get_engine",
    "score_table",
    "spark_session",
]
