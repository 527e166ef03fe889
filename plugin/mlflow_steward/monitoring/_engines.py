"""A window profiled on a batch engine: Spark partitions (or pandas chunks of a directory), one code.

The engine (``mlflow_steward.batch``) reads the table and, for prediction drift, scores it with the
model (on Spark through ``mlflow.pyfunc.spark_udf``); every part it hands over (an Arrow batch of a
partition on Spark) goes through :func:`~mlflow_steward.monitoring._build.profile_part`, the same
function the in-process path runs on 100,000-row parts, ``like`` the reference. The batches' profiles
are merged where they are made, in order, and each partition's comes back to the driver as profile
JSON (a few KB) to be merged there: counts add, moments combine with the parallel formula. So
``steward drift --engine spark`` gives the pandas engine's numbers: equal counts, and scores equal
to rounding (the moments of differently cut parts merge in another order).
"""

from __future__ import annotations

from typing import Any

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._build import check_columns, profile_part
from mlflow_steward.monitoring._profile import FEATURE, Profile, merge_profiles

NO_PARTS = "{source}: no rows to profile"


class PartProfiler:
    """The function each part goes through on the engine (picklable: it travels to Spark executors)."""

    def __init__(self, like: Profile, source: str, with_outputs: bool) -> None:
        self.like, self.source, self.with_outputs = like, source, with_outputs

    def __call__(self, part, outputs) -> str:
        given = (outputs.predictions, outputs.probabilities) if self.with_outputs and outputs is not None else (None, None)
        return profile_part(part, self.like, outputs=given, source=self.source, n_jobs=1).to_json()

    @staticmethod
    def merge(first: str, second: str) -> str:
        """Two parts' profiles as one (folded on the executor: one profile per partition reaches the driver)."""
        return Profile.from_json(first).merge(Profile.from_json(second)).to_json()


def profile_on_engine(
    data: Any,
    like: Profile,
    *,
    engine: str,
    model_uri: str | None,
    source: str,
    spark: Any = None,
    master: str | None = None,
    chunk_rows: int | None = None,
) -> tuple[Profile, tuple[str, ...]]:
    """Profile the table at ``data`` (a CSV/Parquet file or a directory of partitions) ``like`` the
    reference on ``engine``, scored by ``model_uri`` when given. Returns the merged profile and the
    table's columns the reference lacks (like :func:`~mlflow_steward.monitoring.profile_parts`)."""
    from mlflow_steward.batch import PANDAS, BatchModel, TableSource, get_engine

    table = TableSource.open(data)
    columns = table.columns()
    check_columns(columns, like, source=source)
    extra = tuple(c for c in columns if c not in like)
    options: dict[str, Any] = {} if chunk_rows is None else {"chunk_rows": chunk_rows}
    if engine != PANDAS:
        options.update(spark=spark, master=master)
    runner = get_engine(engine, **options)
    model = BatchModel.resolve(model_uri) if model_uri is not None else None
    profiler = PartProfiler(like, source, with_outputs=model is not None)
    parts = runner.map_parts(table, profiler, model=model, columns=list(like.names(FEATURE)), combine=profiler.merge)
    if not parts:
        raise StewardInputError(NO_PARTS.format(source=source))
    return merge_profiles([Profile.from_json(text) for text in parts]), extra
