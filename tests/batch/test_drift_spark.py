"""``steward drift --engine spark``: partitions profiled on local[2] with monitoring's own code, merged on the
driver, give the numbers of the pandas engine on the same 200,000 rows with a planted shift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward.cli import main
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import monitor_drift
from mlflow_steward.monitoring import _monitor as monitor_module

pytestmark = pytest.mark.spark

ROWS = 200_000
SHIFT = 1.25  # median_income x 1.25 in the window


@pytest.fixture(scope="module")
def window(_models, tmp_path_factory):
    """200,000 housing rows (drawn with replacement from the test set, jittered) with median_income
    shifted: one Parquet file, and the same rows as a directory of 4 partitions."""
    housing = _models["housing"]
    features = housing.test.drop(columns=["id", housing.target])
    rng = np.random.default_rng(11)
    frame = features.sample(ROWS, replace=True, random_state=11).reset_index(drop=True)
    for column in ("total_rooms", "population", "households"):  # counts, jittered by 1%: rows are not copies
        frame[column] = frame[column] * (1 + rng.normal(0, 0.01, ROWS))
    frame["median_income"] = frame["median_income"] * SHIFT
    root = tmp_path_factory.mktemp("drift-window")
    frame.to_parquet(root / "window.parquet", index=False)
    (root / "parts").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(ROWS), 4)):
        frame.iloc[rows].to_parquet(root / "parts" / f"part-{i}.parquet", index=False)
    return root


def _assert_same_numbers(on_spark, on_pandas) -> None:
    a, b = on_spark.result, on_pandas.result
    assert a.current.rows == b.current.rows == ROWS
    for column in b.current.columns:
        other = a.current.column(column.name)
        assert (other.counts, other.missing) == (column.counts, column.missing), column.name  # counts equal
        if column.moments is not None:
            assert math.isclose(other.moments.mean, column.moments.mean, rel_tol=1e-12, abs_tol=1e-9)
    assert [(c.column, c.check, c.status) for c in a.checks] == [(c.column, c.check, c.status) for c in b.checks]
    for x, y in zip(a.checks, b.checks):
        for field in ("score", "low", "high", "p_value", "p_adjusted"):
            u, v = getattr(x, field), getattr(y, field)
            assert (u is None) == (v is None), (x.column, x.check, field)
            if u is not None and not (math.isnan(u) and math.isnan(v)):
                assert abs(u - v) <= 1e-9, (x.column, x.check, field, u, v)  # scores equal to 1e-9
    assert a.overall.drift == b.overall.drift and a.overall.exit_code == b.overall.exit_code


def test_drift_on_spark_equals_drift_on_pandas_on_200k_rows_with_a_planted_shift(spark, housing, window):
    on_pandas = monitor_drift(housing.name, data=window / "window.parquet", log=False)
    on_spark = monitor_drift(housing.name, data=window / "parts", log=False, engine="spark", spark=spark)
    _assert_same_numbers(on_spark, on_pandas)
    assert on_pandas.result.overall.drift
    drifted = {c.column for c in on_pandas.result.alarms()}
    assert "median_income" in drifted and "prediction" in drifted  # the shift, and the predictions it moves
    assert drifted <= {"median_income", "prediction"}, drifted  # the jitter alarms nothing
    assert "spark" in on_spark.window and "directory" in on_spark.window


def test_drift_on_spark_without_predictions_and_on_one_file(spark, housing, window):
    on_pandas = monitor_drift(housing.name, data=window / "window.parquet", log=False, predict=False)
    on_spark = monitor_drift(housing.name, data=window / "window.parquet", log=False, predict=False, engine="spark",
                             spark=spark)  # fmt: skip
    _assert_same_numbers(on_spark, on_pandas)
    assert "prediction" not in on_spark.result.current


def test_a_directory_on_the_pandas_engine_profiles_like_the_file(housing, window):
    """No Spark needed: a directory of partitions goes through the batch engine's pandas chunks."""
    on_file = monitor_drift(housing.name, data=window / "window.parquet", log=False)
    on_directory = monitor_drift(housing.name, data=window / "parts", log=False)
    _assert_same_numbers(on_directory, on_file)


def test_text_in_a_numeric_column_fails_the_spark_job_with_monitorings_message(spark, housing, tmp_path):
    frame = housing.test.drop(columns=["id"]).copy()
    frame["total_rooms"] = frame["total_rooms"].astype(str)
    frame.loc[700, "total_rooms"] = "lots"
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(StewardInputError) as info:
        monitor_drift(housing.name, data=path, log=False, predict=False, engine="spark", spark=spark)
    assert f"data {path}: column 'total_rooms' must be numeric (as in training), got 'lots' (str)" in str(info.value)
    with pytest.raises(StewardInputError) as info:  # scored: the model refuses first, with the server's message
        monitor_drift(housing.name, data=path, log=False, engine="spark", spark=spark)
    assert "column 'total_rooms' expects a number (or null), got 'lots' (str)" in str(info.value)


def test_the_cli_drift_on_spark_exits_3_and_refuses_an_engine_for_captures(spark, housing, window):
    runner = CliRunner()
    done = runner.invoke(main, ["drift", housing.name, "--input", str(window / "parts"), "--engine", "spark",
                                "--no-log"])  # fmt: skip
    assert done.exit_code == 3, done.output
    assert "DRIFT" in done.output and "median_income" in done.output
    done = runner.invoke(main, ["drift", housing.name, "--capture", "captures.db", "--engine", "spark"])
    assert done.exit_code == 2
    assert done.output.strip() == f"steward: error: {monitor_module.ENGINE_NEEDS_DATA.format(engine='spark')}"


def test_captures_of_a_spark_batch_are_a_drift_window(spark, housing, window, tmp_path):
    """steward score --engine spark --capture-dir, then steward drift on those captures (pandas reader)."""
    from mlflow_steward.batch import score_table

    sample = pd.read_parquet(window / "window.parquet").head(20_000)
    sample.insert(0, "id", range(len(sample)))
    sample.to_parquet(tmp_path / "in.parquet", index=False)
    score_table(housing.uri, tmp_path / "in.parquet", tmp_path / "out", engine="spark", spark=spark,
                key_columns=["id"], capture_dir=tmp_path / "captures")  # fmt: skip
    on_captures = monitor_drift(housing.name, capture=f"parquet:{tmp_path / 'captures'}", log=False)
    on_file = monitor_drift(housing.name, data=tmp_path / "in.parquet", log=False)
    assert on_captures.result.current.rows == on_file.result.current.rows == 20_000
    for column in on_file.result.current.columns:
        assert on_captures.result.current.column(column.name).counts == column.counts, column.name
    assert {c.column for c in on_captures.result.alarms()} == {c.column for c in on_file.result.alarms()}
