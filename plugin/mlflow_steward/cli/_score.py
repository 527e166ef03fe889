"""``steward score MODEL_URI --input PATH --output PATH [--engine pandas|spark]``: parse, call, print."""

from __future__ import annotations

import click


def _key_columns(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@click.command("score")
@click.argument("model")
@click.option("--input", "input_path", required=True, help="CSV or Parquet file, or a directory of partitions.")
@click.option("--output", "output_path", required=True, help="New directory for the Parquet part files.")
@click.option("--engine", type=click.Choice(["pandas", "spark"]), default=None,
              help="pandas (the default): this process, in chunks; spark: mlflow.pyfunc.spark_udf on a Spark session.")
@click.option("--key-columns", default=None, help="Input columns copied to the output, e.g. id,date.")
@click.option("--capture-dir", default=None,
              help="Also write every scored row as captures (Parquet capture layout) for steward drift.")
@click.option("--chunk-rows", type=int, default=None,
              help="Rows per chunk (pandas, default 100,000) or per Arrow batch (spark, default 10,000).")
@click.option("--spark-master", default=None,
              help="Spark master when no session is active (default local[*]; spark-submit sets its own).")
def score(model: str, input_path: str, output_path: str, engine: str | None, key_columns: str | None,
          capture_dir: str | None, chunk_rows: int | None, spark_master: str | None) -> None:  # fmt: skip
    """Score a table with MODEL (models:/NAME@ALIAS, models:/NAME/VERSION, NAME, runs:/... or a path).

    The output holds the key columns, prediction (and probability/<class> for classifiers),
    model_name and model_version. Nothing is written unless every row scores: a missing column or
    a bad value stops the job with the server's message naming the column (exit 2).
    """
    from mlflow_steward.batch import score_table

    given = {"engine": engine}  # score_table holds the defaults
    result = score_table(
        model, input_path, output_path, key_columns=_key_columns(key_columns), capture_dir=capture_dir,
        chunk_rows=chunk_rows, master=spark_master, progress=True, **{k: v for k, v in given.items() if v is not None},
    )  # fmt: skip
    click.echo(result.summary())
