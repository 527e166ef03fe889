"""dataset_digest / dataset_version: every row counts, the index does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.data import dataset_digest, dataset_version
from mlflow_steward.data import _version
from mlflow_steward.exceptions import StewardInputError


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 20_000
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 100, size=n),
            "s": pd.Series(rng.choice(["a", "b", "c"], size=n), dtype="str"),
        }
    )


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # inside MLflow
def test_change_beyond_row_10000_changes_our_digest_but_not_mlflows(big):
    from mlflow.data.digest_utils import compute_pandas_digest

    changed = big.copy()
    changed.loc[15_000, "x"] += 1.0
    assert dataset_digest(changed) != dataset_digest(big)
    assert dataset_version(changed) != dataset_version(big)
    # the reason this function exists: MLflow's own digest only sees the first 10,000 rows
    assert compute_pandas_digest(changed) == compute_pandas_digest(big)


def test_text_change_in_last_row(big):
    changed = big.copy()
    changed.loc[len(big) - 1, "s"] = "d"
    assert dataset_digest(changed) != dataset_digest(big)


def test_equal_frames_equal_digests(big):
    digest = dataset_digest(big)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert dataset_digest(big.copy()) == digest
    assert dataset_digest(big.set_index(big.index + 1000)) == digest  # the index is not hashed


def test_columns_dtypes_and_order_count(big):
    digest = dataset_digest(big)
    assert dataset_digest(big.rename(columns={"x": "z"})) != digest
    assert dataset_digest(big.astype({"k": "float64"})) != digest
    assert dataset_digest(big[["k", "x", "s"]]) != digest
    assert dataset_digest(big.iloc[::-1]) != digest  # row order is part of the version
    assert dataset_digest(big.iloc[:-1]) != digest


def test_nan_and_empty_frames():
    with_nan = pd.DataFrame({"a": [1.0, np.nan]})
    assert dataset_digest(with_nan) == dataset_digest(pd.DataFrame({"a": [1.0, np.nan]}))
    assert dataset_digest(with_nan) != dataset_digest(pd.DataFrame({"a": [1.0, 0.0]}))
    assert dataset_digest(pd.DataFrame()) != dataset_digest(pd.DataFrame(index=range(3)))


def test_version_is_a_prefix(big):
    digest = dataset_digest(big)
    assert dataset_version(big) == dataset_version(digest) == digest[:12]


@pytest.mark.parametrize("value", ["abc", "XYZ" * 10, 42, None])
def test_version_bad_input(value):
    with pytest.raises(StewardInputError) as info:
        dataset_version(value)
    assert str(info.value) == _version.VERSION_BAD_INPUT.format(length=12, value=value)


def test_digest_errors():
    with pytest.raises(StewardInputError) as info:
        dataset_digest([1, 2])
    assert str(info.value) == _version.DIGEST_NOT_A_FRAME.format(kind="list")
    with pytest.raises(StewardInputError) as info:
        dataset_digest(pd.DataFrame({"a": [1, 2], "b": [[1], [2]]}))
    assert str(info.value) == _version.DIGEST_UNHASHABLE.format(column="b", reason="unhashable type: 'list'")
