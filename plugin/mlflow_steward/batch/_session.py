"""The Spark session a batch job runs on, and the way a refused row reaches the driver.

:func:`spark_session` returns the active session when there is one (``spark-submit``, a managed
notebook: its configuration is the user's), else builds one on ``master`` (default ``local[*]``):

* ``PYSPARK_PYTHON`` (and the driver's) point at this interpreter, so the Python workers import the
  same packages; on a cluster master an existing ``PYSPARK_PYTHON`` is kept;
* on a ``local`` master the driver binds 127.0.0.1 and the web UI is off;
* the JVM logs through a log4j2 configuration at ``log_level`` (default ``fatal``): a refused row
  would otherwise print the worker's traceback once per task attempt on stderr;
* timestamps in UTC; pyspark's FutureWarning about pandas 3 is silenced (see pyproject.toml: the
  paths used here, Arrow pandas UDFs and Parquet, are tested under pandas 3).

:func:`refusals` turns a job that failed because the model refused its input into one
:class:`~mlflow_steward.exceptions.StewardInputError` with the model's own message (the one the
scoring server answers with HTTP 400), so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from mlflow_steward.exceptions import StewardInputError

DEFAULT_MASTER = "local[*]"
DEFAULT_LOG_LEVEL = "fatal"
ENV_LOG_LEVEL = "STEWARD_SPARK_LOG_LEVEL"
APP_NAME = "mlflow-steward"
PANDAS_WARNING = "PySpark does not yet fully support pandas"
LOG_LEVELS = ("off", "fatal", "error", "warn", "info", "debug", "trace", "all")

REFUSED_IN_SPARK = "{message} (input {source}; on Spark a row is counted within its batch of at most {rows:,} rows)"
NO_PYSPARK = (
    "the spark engine needs pyspark: pip install 'mlflow-steward[spark]' (and Java 17, e.g. Debian's "
    "openjdk-17-jre-headless)"
)
BAD_LOG_LEVEL = "Spark log level must be one of {levels}, got {value!r}"

#: The last line of a Python worker's traceback when the model refused its input: the exception's
#: (dotted) class name and its message. ``MlflowException`` is what a model of ours raises from
#: ``predict`` for a refused frame; the rest are our own names for the same refusal.
_REFUSAL = re.compile(
    r"^(?:[\w.]+\.)?(?:MlflowException|RequestRefused|StewardInputError): (?P<message>.+?)\s*$", re.MULTILINE
)

_LOG4J = """\
rootLogger.level = {level}
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = {level}
"""


def _log4j_file(level: str) -> Path:
    # A PySpark driver prints "Setting default log level to ..." on stderr unless Spark's own loggers
    # have a level of their own equal to the root's: both are set to ``level``.
    text = _LOG4J.format(level=level)
    path = Path(tempfile.gettempdir()) / f"steward-spark-log4j2-{level}-{hashlib.sha256(text.encode()).hexdigest()[:8]}.properties"
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text)
        os.replace(partial, path)
    return path


def is_local(master: str) -> bool:
    return master.startswith("local")


def spark_session(master: str | None = None, *, log_level: str | None = None, app_name: str = APP_NAME):
    """The active Spark session, or a new one on ``master`` configured as described above."""
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StewardInputError(NO_PYSPARK) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or DEFAULT_MASTER
    level = (log_level or os.environ.get(ENV_LOG_LEVEL) or DEFAULT_LOG_LEVEL).lower()
    if level not in LOG_LEVELS:
        raise StewardInputError(BAD_LOG_LEVEL.format(levels=", ".join(LOG_LEVELS), value=level))
    if is_local(master):
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    else:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_log4j_file(level)}")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if is_local(master):
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
        )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(level.upper())
    return session


def refusal_in(exc: BaseException) -> str | None:
    """The model's refusal message inside a failed Spark job's error, or None."""
    found = _REFUSAL.findall(str(exc))
    return found[-1] if found else None


@contextlib.contextmanager
def refusals(*, source: object, chunk_rows: int) -> Iterator[None]:
    """Run a Spark action; a job failed by the model's refusal becomes one StewardInputError."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, StewardInputError):
            raise
        message = refusal_in(exc)
        if message is None:
            raise
        raise StewardInputError(REFUSED_IN_SPARK.format(message=message, source=source, rows=chunk_rows)) from None
