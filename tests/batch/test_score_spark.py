"""``steward score --engine spark`` on local[2]: equal to the pyfunc row for row, refusals reach the driver."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward.batch import score_table
from mlflow_steward.batch import _session as session_module
from mlflow_steward.cli import main
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import _validation as v

pytestmark = pytest.mark.spark


def _left_behind(tmp_path, name: str = "out") -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name == name or ".staging-" in p.name]


def test_spark_scoring_of_the_housing_test_set_equals_the_pyfunc_row_for_row(spark, housing, tmp_path):
    result = score_table(housing.uri, housing.test_path, tmp_path / "out", engine="spark", spark=spark,
                         key_columns=["id"])  # fmt: skip
    out = pd.read_parquet(tmp_path / "out").sort_values("id").reset_index(drop=True)
    expected = mlflow.pyfunc.load_model(f"models:/{housing.name}/{housing.version}").predict(housing.test)
    assert result.rows == len(out) == len(housing.test) and result.engine == "spark"
    assert out["id"].tolist() == list(range(len(housing.test)))
    np.testing.assert_array_equal(out["prediction"].to_numpy(), np.asarray(expected))
    assert list(out.columns) == ["id", "prediction", "model_name", "model_version"]
    assert set(out["model_name"]) == {housing.name} and set(out["model_version"]) == {housing.version}


def test_spark_classifier_output_equals_the_pandas_engine(spark, adult, tmp_path):
    score_table(adult.uri, adult.test_path, tmp_path / "spark", engine="spark", spark=spark, key_columns=["id"])
    score_table(adult.uri, adult.test_path, tmp_path / "pandas", key_columns=["id"])
    on_spark = pd.read_parquet(tmp_path / "spark").sort_values("id").reset_index(drop=True)
    on_pandas = pd.read_parquet(tmp_path / "pandas")
    assert list(on_spark.columns) == list(on_pandas.columns)
    assert any(c.startswith("probability/") for c in on_spark.columns)
    assert on_spark["prediction"].tolist() == on_pandas["prediction"].tolist()
    probabilities = [c for c in on_spark.columns if c.startswith("probability/")]
    np.testing.assert_array_equal(on_spark[probabilities].to_numpy(), on_pandas[probabilities].to_numpy())


def test_a_missing_column_fails_before_spark_runs_anything(spark, housing, tmp_path):
    path = tmp_path / "no_income.parquet"
    housing.test.drop(columns=["median_income"]).to_parquet(path)
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, path, tmp_path / "out", engine="spark", spark=spark)
    assert str(info.value).startswith("model input is missing column(s) 'median_income' (numeric); the model expects")
    assert _left_behind(tmp_path) == []


def _text_with_a_word(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["total_rooms"] = frame["total_rooms"].astype(str)  # numbers as text pass the checks...
    frame.loc[2500, "total_rooms"] = "abc"  # ... a word does not
    return frame


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_text_with_a_word, v.NOT_NUMBER.format(column="total_rooms", value=v.quote("abc"), type="str", row="{row}")),
        (lambda f: f.assign(ocean_proximity=7.5),  # a number column where the model expects text
         v.NOT_TEXT.format(column="ocean_proximity", value=v.quote(7.5), type="float", row="{row}")),
    ],
    ids=["word-in-numeric", "number-in-categorical"],
)
def test_a_value_of_the_wrong_type_fails_the_job_with_the_servers_message(spark, housing, tmp_path, make, message):
    path = tmp_path / "bad.parquet"
    make(housing.test).to_parquet(path)
    before = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, path, tmp_path / "out", engine="spark", spark=spark, chunk_rows=1000)
    text = str(info.value)
    head, _, _ = message.partition("{row}")
    assert text.startswith(head), text
    assert text.endswith(f"(input {path}; on Spark a row is counted within its batch of at most 1,000 rows)")
    assert _left_behind(tmp_path) == []
    assert spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == before  # the session keeps its own


def test_the_cli_on_spark_prints_one_line_and_exits_2(spark, housing, tmp_path):
    """In process, on the active session (as under spark-submit)."""
    frame = housing.test.copy()
    frame["households"] = frame["households"].astype(str)
    frame.loc[10, "households"] = "many"
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    done = CliRunner().invoke(main, ["score", housing.uri, "--input", str(path), "--output", str(tmp_path / "out"),
                                     "--engine", "spark"])  # fmt: skip
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    # the session's own Arrow batch size (an earlier test in this process may have set it)
    batch_rows = int(spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch", "10000"))
    assert lines == [f"steward: error: {v.NOT_NUMBER.format(column='households', value=v.quote('many'), type='str', row=10)} "
                     f"(input {path}; on Spark a row is counted within its batch of at most {batch_rows:,} rows)"]  # fmt: skip


@pytest.mark.e2e
def test_the_cli_in_its_own_process_starts_spark_and_stderr_has_one_error_line(housing, tmp_path, spark):
    """A fresh `steward score --engine spark`: its own local session; a refused value is one line, exit 2,
    and the JVM's task tracebacks stay out of the terminal."""
    frame = housing.test.copy()
    frame["population"] = frame["population"].astype(object)
    frame.loc[5, "population"] = "lots"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    steward = os.path.join(os.path.dirname(sys.executable), "steward")
    done = subprocess.run(
        [steward, "score", housing.uri, "--input", str(path), "--output", str(tmp_path / "out"), "--engine", "spark",
         "--spark-master", "local[1]"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYSPARK_PYTHON": ""},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    ours = [line for line in done.stderr.splitlines() if line.startswith("steward:")]
    assert ours == [f"steward: error: {v.NOT_NUMBER.format(column='population', value=v.quote('lots'), type='str', row=5)} "
                    f"(input {path}; on Spark a row is counted within its batch of at most 10,000 rows)"]  # fmt: skip
    noise = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("steward:")
             and "incubator modules" not in line]  # fmt: skip
    assert noise == [], noise  # no Spark log lines, no worker traceback
    assert _left_behind(tmp_path) == []


def test_refusals_are_found_in_worker_tracebacks_of_every_form():
    trace = ("An exception was thrown from the Python worker:\nTraceback (most recent call last):\n  File \"x.py\""
             "\n    raise _invalid(exc)\n{line}\n")  # fmt: skip
    assert session_module.refusal_in(RuntimeError(trace.format(
        line="mlflow.exceptions.MlflowException: column 'a' expects a number (or null), got 'x' (str) in row 3"))) == (
        "column 'a' expects a number (or null), got 'x' (str) in row 3")  # fmt: skip
    assert session_module.refusal_in(RuntimeError(trace.format(
        line="_mlflow_steward_0_1_0_ab12._compat.mlflow.scoring_server.RequestRefused: column 'b' expects a text category"))) == (
        "column 'b' expects a text category")  # fmt: skip
    assert session_module.refusal_in(RuntimeError(trace.format(line="ZeroDivisionError: division by zero"))) is None


def test_spark_captures_equal_the_pandas_engines(spark, adult, tmp_path):
    """Same requests (one per key), same features, predictions and probabilities, whichever engine wrote them."""
    from mlflow_steward.serving import read_captures

    for engine in ("spark", "pandas"):
        score_table(adult.uri, adult.test_path, tmp_path / f"out-{engine}", engine=engine, key_columns=["id"],
                    capture_dir=tmp_path / engine, **({"spark": spark} if engine == "spark" else {}))  # fmt: skip
    on_spark, on_pandas = (
        read_captures(f"parquet:{tmp_path / e}").drop(columns=["ts"]).sort_values("request_id").reset_index(drop=True)
        for e in ("spark", "pandas")
    )  # fmt: skip
    assert len(on_spark) == len(adult.test)
    pd.testing.assert_frame_equal(on_spark, on_pandas)
    assert [p.name for p in (tmp_path / "spark").iterdir()] == ["captures"]  # staging published and removed
