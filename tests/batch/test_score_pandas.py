"""``steward score`` on the pandas engine: equal to the pyfunc row for row, chunked, refusals, output rules."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward.batch import score_table
from mlflow_steward.batch import _output as output_module
from mlflow_steward.batch import _pandas as pandas_engine
from mlflow_steward.cli import main
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import _validation as v


def _staging_left(tmp_path) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_housing_test_set_equals_the_pyfunc_row_for_row_across_chunks(housing, tmp_path):
    result = score_table(housing.uri, housing.test_path, tmp_path / "out", key_columns=["id"], chunk_rows=700)
    out = pd.read_parquet(tmp_path / "out")
    expected = mlflow.pyfunc.load_model(f"models:/{housing.name}/{housing.version}").predict(housing.test)
    assert result.rows == len(housing.test) == len(out)
    assert result.parts == -(-len(housing.test) // 700)  # one part file per chunk
    assert out["id"].tolist() == housing.test["id"].tolist()  # input order kept
    np.testing.assert_array_equal(out["prediction"].to_numpy(), np.asarray(expected))
    assert list(out.columns) == ["id", "prediction", "model_name", "model_version"]
    assert set(out["model_name"]) == {housing.name} and set(out["model_version"]) == {housing.version}
    assert (result.model_name, result.model_version) == (housing.name, housing.version)


def test_classifier_output_has_probabilities_of_every_class(adult, tmp_path):
    score_table(adult.uri, adult.test_path, tmp_path / "out", key_columns=["id"], chunk_rows=500)
    out = pd.read_parquet(tmp_path / "out")
    loaded = mlflow.pyfunc.load_model(adult.uri)
    wrapper = loaded.unwrap_python_model()
    classes = [str(c) for c in wrapper.classes_]
    assert list(out.columns) == ["id", "prediction", *(f"probability/{c}" for c in classes), "model_name",
                                 "model_version"]  # fmt: skip
    assert out["prediction"].tolist() == list(loaded.predict(adult.test))
    np.testing.assert_allclose(out[[f"probability/{c}" for c in classes]].to_numpy(),
                               wrapper.predict_proba(adult.test), rtol=0, atol=0)  # fmt: skip


def test_a_directory_of_csv_partitions_scores_like_the_file(housing, tmp_path):
    parts = tmp_path / "input"
    for day, rows in housing.test.groupby(housing.test.index % 3):
        (parts / f"day={day}").mkdir(parents=True)
        rows.to_csv(parts / f"day={day}" / "rows.csv", index=False)
    (parts / "_SUCCESS").write_text("")
    score_table(housing.uri, parts, tmp_path / "out", key_columns=["id"], chunk_rows=1000)
    out = pd.read_parquet(tmp_path / "out").sort_values("id")
    expected = mlflow.pyfunc.load_model(housing.uri).predict(housing.test)
    np.testing.assert_allclose(out["prediction"].to_numpy(), np.asarray(expected), rtol=1e-12)


def test_a_missing_column_is_refused_before_anything_is_written(housing, tmp_path):
    path = tmp_path / "no_rooms.parquet"
    housing.test.drop(columns=["total_rooms"]).to_parquet(path)
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, path, tmp_path / "out")
    assert str(info.value).startswith(v.MISSING_COLUMNS.format(missing="'total_rooms' (numeric)", expected="")[:-1])
    assert "total_rooms" in str(info.value)
    assert not (tmp_path / "out").exists() and _staging_left(tmp_path) == []


def test_a_bad_value_late_in_the_input_names_column_and_input_row_and_writes_nothing(housing, tmp_path):
    frame = housing.test.copy()
    frame["total_rooms"] = frame["total_rooms"].astype(object)
    frame.loc[3100, "total_rooms"] = "abc"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, path, tmp_path / "out", chunk_rows=1000)  # chunks 0-2 are written first
    expected = v.NOT_NUMBER.format(column="total_rooms", value=v.quote("abc"), type="str", row=3100)
    assert str(info.value) == pandas_engine.REFUSED.format(message=expected, path=path)
    assert not (tmp_path / "out").exists() and _staging_left(tmp_path) == []


def test_output_and_key_column_checks(housing, tmp_path):
    (tmp_path / "exists").mkdir()
    with pytest.raises(StewardInputError, match="already exists"):
        score_table(housing.uri, housing.test_path, tmp_path / "exists")
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, housing.test_path, tmp_path / "out", key_columns=["id", "customer"])
    assert str(info.value).startswith(output_module.UNKNOWN_KEY.format(missing="'customer'", source=housing.test_path,
                                                                       columns="")[:40])  # fmt: skip
    with pytest.raises(StewardInputError, match="'prediction' clashes"):
        path = tmp_path / "with_prediction.parquet"
        housing.test.assign(prediction=1.0).to_parquet(path)
        score_table(housing.uri, path, tmp_path / "out", key_columns=["prediction"])
    with pytest.raises(StewardInputError, match="does not exist"):
        score_table(housing.uri, tmp_path / "nope.parquet", tmp_path / "out")
    with pytest.raises(StewardInputError, match="--chunk-rows"):
        score_table(housing.uri, housing.test_path, tmp_path / "out", chunk_rows=0)
    with pytest.raises(StewardInputError, match="--engine"):
        score_table(housing.uri, housing.test_path, tmp_path / "out", engine="dask")
    with pytest.raises(StewardInputError, match="batch-housing@nope"):
        score_table("models:/batch-housing@nope", housing.test_path, tmp_path / "out")
    assert not (tmp_path / "out").exists() and _staging_left(tmp_path) == []


def test_an_alias_is_resolved_to_its_version_before_scoring(housing, tmp_path):
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(housing.name, "champion", housing.version)
    try:
        result = score_table(f"{housing.name}@champion", housing.test_path, tmp_path / "out")
    finally:
        client.delete_registered_model_alias(housing.name, "champion")
    assert result.model == f"{housing.name} v{housing.version} (@champion)"
    assert set(pd.read_parquet(tmp_path / "out")["model_version"]) == {housing.version}


def test_cli_scores_and_refuses_in_one_line(housing, tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["score", housing.uri, "--input", str(housing.test_path), "--output",
                                str(tmp_path / "out"), "--key-columns", "id"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"scored {len(housing.test):,} rows with {housing.name} v{housing.version}" in done.output
    bad = tmp_path / "bad.parquet"
    housing.test.drop(columns=["median_income"]).to_parquet(bad)
    done = runner.invoke(main, ["score", housing.uri, "--input", str(bad), "--output", str(tmp_path / "out2")])
    assert done.exit_code == 2
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("steward: error: model input is missing column(s) 'median_income'")
    assert not (tmp_path / "out2").exists()
