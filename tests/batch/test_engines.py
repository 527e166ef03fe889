"""The engine interface on pandas: parts in input order, results folded with ``combine``, engine names checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.batch import TableSource, get_engine
from mlflow_steward.batch import _engine as engine_module
from mlflow_steward.exceptions import StewardInputError


@pytest.fixture
def table(tmp_path) -> TableSource:
    frame = pd.DataFrame({"id": np.arange(2_345), "x": np.linspace(0, 1, 2_345)})
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=1_000)
    return TableSource.open(tmp_path / "t.parquet")


def test_map_parts_gives_one_result_per_chunk_in_input_order(table):
    results = get_engine("pandas", chunk_rows=500).map_parts(table, lambda part, outputs: (part["id"].min(), len(part)))
    assert results == [(0, 500), (500, 500), (1000, 500), (1500, 500), (2000, 345)]


def test_map_parts_with_combine_folds_in_order_and_keeps_only_the_fold(table):
    seen: list[int] = []

    def fn(part, outputs):
        seen.append(int(part["id"].iloc[0]))
        return [int(part["id"].iloc[0])]

    results = get_engine("pandas", chunk_rows=1000).map_parts(table, fn, columns=["id"], combine=lambda a, b: a + b)
    assert results == [[0, 1000, 2000]] and seen == [0, 1000, 2000]


def test_an_unknown_engine_is_named():
    with pytest.raises(StewardInputError) as info:
        get_engine("dask")
    assert str(info.value) == engine_module.UNKNOWN_ENGINE.format(engines="pandas, spark", value="dask")
