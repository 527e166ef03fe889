"""Batch inputs: files and directories of partitions, chunked reading, and the refusals before any work."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.batch import _model, _probability_model, _source
from mlflow_steward.batch._source import TableSource
from mlflow_steward.exceptions import StewardInputError


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(rows), "x": rng.normal(size=rows), "kind": rng.choice(["a", "b"], rows)})


def test_a_parquet_file_is_read_in_chunks_in_order_with_row_numbers(tmp_path):
    frame = _frame(2500)
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=600)
    source = TableSource.open(path)
    assert (source.format, source.columns(), source.count_rows()) == ("parquet", ["id", "x", "kind"], 2500)
    chunks = list(source.iter_frames(chunk_rows=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]  # row groups of 600 re-cut to the chunk size
    whole = pd.concat(chunks)
    assert whole.index.tolist() == list(range(2500))
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), frame)


def test_a_hive_partitioned_directory_reads_every_partition_and_its_key(tmp_path):
    frame = _frame(900).assign(day=lambda f: np.where(f["id"] < 300, "d1", np.where(f["id"] < 600, "d2", "d3")))
    frame.to_parquet(tmp_path / "parts", partition_cols=["day"])
    (tmp_path / "parts" / "_SUCCESS").write_text("")
    (tmp_path / "parts" / ".hidden.parquet").write_text("not parquet")
    source = TableSource.open(tmp_path / "parts")
    assert source.format == "parquet" and len(source.files) == 3
    assert "day" in source.columns()
    read = pd.concat(source.iter_frames(chunk_rows=250))
    assert sorted(read["id"]) == list(range(900))
    assert read.groupby("day", observed=True)["id"].min().to_dict() == {"d1": 0, "d2": 300, "d3": 600}


def test_csv_directories_and_chunking(tmp_path):
    directory = tmp_path / "csv"
    directory.mkdir()
    _frame(700).iloc[:400].to_csv(directory / "a.csv", index=False)
    _frame(700).iloc[400:].to_csv(directory / "b.csv.gz", index=False)
    source = TableSource.open(directory)
    assert source.format == "csv" and source.count_rows() is None
    chunks = list(source.iter_frames(chunk_rows=300))
    assert [len(c) for c in chunks] == [300, 100, 300]
    assert pd.concat(chunks)["id"].tolist() == list(range(700))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.csv", "does not exist"),
        (lambda p: (p / "t.json").write_text("{}") and p / "t.json", "unsupported file type"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no .csv or .parquet files"),
    ],
)
def test_bad_inputs_are_named(tmp_path, make, message):
    with pytest.raises(StewardInputError, match=message):
        TableSource.open(make(tmp_path))


def test_a_directory_mixing_formats_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    _frame(5).to_csv(tmp_path / "d" / "a.csv", index=False)
    _frame(5).to_parquet(tmp_path / "d" / "b.parquet")
    with pytest.raises(StewardInputError) as info:
        TableSource.open(tmp_path / "d")
    assert str(info.value) == _source.INPUT_MIXED.format(path=tmp_path / "d", examples="a.csv, b.parquet")


def test_a_corrupt_parquet_file_is_named(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(StewardInputError, match=r"input .*broken.parquet could not be read"):
        TableSource.open(path).columns()


@pytest.mark.parametrize("value", [0, -5, 2.5, True, "10"])
def test_chunk_rows_must_be_a_positive_whole_number(value):
    with pytest.raises(StewardInputError) as info:
        _source.check_chunk_rows(value)
    assert str(info.value) == _source.BAD_CHUNK_ROWS.format(value=value)


def test_the_probability_model_code_imports_nothing_of_ours_and_shares_the_output_names():
    """It is saved as model code and runs on executors without mlflow-steward (see _adapter)."""
    tree = ast.parse(Path(_probability_model.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "mlflow", "numpy", "pandas"}
    assert (_probability_model.PREDICTION, _probability_model.PROBABILITY_PREFIX) == (
        _model.PREDICTION, _model.PROBABILITY_PREFIX)  # fmt: skip
