"""How a batch joins a dataset version (pure pandas): the seeded assignment, schema, ids, refresh."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlflow_steward.data._versions import _frames
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.data._versions._frames import BATCH_COLUMN
from mlflow_steward.exceptions import StewardInputError


def _frame(n: int, start: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": np.arange(start, start + n),
        "x": rng.normal(size=n),
        "k": rng.choice(["a", "b", "c"], size=n),
        "y": rng.normal(size=n),
    })


def test_the_test_share_is_the_seeded_share_and_depends_only_on_the_row():
    frame = _frame(20000)
    keys = _frames.row_keys(frame, "id")
    in_test = _frames.assign_test(keys, 0.2, seed=7)
    # a binomial(20000, 0.2) count: within 4 standard deviations
    assert abs(in_test.sum() - 4000) < 4 * np.sqrt(20000 * 0.2 * 0.8)
    # the same rows in another order, or inside another batch, get the same assignment
    shuffled = frame.sample(frac=1.0, random_state=1)
    again = _frames.assign_test(_frames.row_keys(shuffled, "id"), 0.2, seed=7)
    assert (pd.Series(again, index=shuffled.index).sort_index().to_numpy() == in_test).all()
    part = _frames.assign_test(_frames.row_keys(frame.iloc[100:200], "id"), 0.2, seed=7)
    assert (part == in_test[100:200]).all()
    # another seed gives an (almost) independent assignment
    other = _frames.assign_test(keys, 0.2, seed=8)
    table = pd.crosstab(in_test, other).to_numpy()
    assert stats.chi2_contingency(table).pvalue > 1e-4


def test_without_an_id_the_whole_row_is_the_key():
    frame = _frame(500).drop(columns=["id"])
    keys = _frames.row_keys(frame, None)
    assert len(set(keys.tolist())) == 500
    changed = frame.copy()
    changed.loc[3, "x"] += 1.0
    assert (_frames.row_keys(changed, None) != keys).sum() == 1


def test_append_keeps_the_parent_rows_in_place_and_never_moves_test_rows():
    v1 = _frames.append_batch(None, _frame(300), number=1, id_column="id", share=0.25, seed=3)
    v2 = _frames.append_batch(v1, _frame(300, start=300, seed=1), number=2, id_column="id", share=0.25, seed=3)
    for part in ("train", "test"):
        old = v1.part(part)
        assert v2.part(part).iloc[: len(old)].equals(old)
        assert set(v2.part(part)[BATCH_COLUMN]) == {1, 2}
    assert v2.n_rows == 600 and v2.rows()["retired"] == 0
    assert not set(v1.test["id"]) & set(v2.train["id"])
    assert v2.digest() != v1.digest() and len(v2.digest()) == 64


def test_schema_mismatch_names_every_column():
    parent = _frames.append_batch(None, _frame(50), number=1, id_column="id", share=0.2, seed=0).train
    batch = _frame(10).drop(columns=["k"]).assign(extra=1, x=lambda f: f["x"].astype(str))
    with pytest.raises(StewardInputError) as err:
        _frames.conform(batch, parent, source="b.csv", dataset="d@1")
    problems = "; ".join([
        msg.SCHEMA_MISSING.format(columns="k"),
        msg.SCHEMA_EXTRA.format(columns="extra"),
        msg.SCHEMA_KIND.format(column="x", got="text", expected="numbers"),
    ])
    assert str(err.value) == msg.SCHEMA_MISMATCH.format(source="b.csv", dataset="d@1", problems=problems)


def test_conform_widens_numbers_and_takes_all_missing_columns():
    parent = _frames.append_batch(None, _frame(50), number=1, id_column="id", share=0.2, seed=0).train
    batch = _frame(10, start=50)[["y", "k", "x", "id"]]  # another column order
    batch["id"] = batch["id"].astype(float)
    batch["k"] = np.nan
    conformed, widen = _frames.conform(batch, parent, source="b", dataset="d")
    assert list(conformed.columns) == ["id", "x", "k", "y"]
    assert widen == {"id": np.dtype("float64")} and conformed["id"].dtype == np.float64
    assert conformed["k"].isna().all() and conformed["k"].dtype == parent["k"].dtype


@pytest.mark.parametrize(
    ("batch", "known", "expected"),
    [
        (pd.DataFrame({"id": [1, None, 3]}), None,
         msg.ID_MISSING.format(source="b", column="id", count=1, row=2)),
        (pd.DataFrame({"id": [1, 2, 2, 3, 3]}), None,
         msg.IDS_DUPLICATED.format(source="b", count=2, column="id", examples="2, 3")),
        (pd.DataFrame({"id": [7, 8, 9]}), pd.DataFrame({"id": [1, 8, 9]}),
         msg.IDS_KNOWN.format(source="b", count=2, column="id", dataset="d", examples="8, 9")),
    ],
)
def test_ids_must_be_present_unique_and_new(batch, known, expected):
    with pytest.raises(StewardInputError) as err:
        _frames.check_ids(batch, known, "id", source="b", dataset="d")
    assert str(err.value) == expected


def test_rows_already_in_the_dataset_are_refused_without_an_id():
    known = _frame(20).drop(columns=["id"])
    batch = pd.concat([_frame(5, seed=9).drop(columns=["id"]), known.iloc[[4]]], ignore_index=True)
    with pytest.raises(StewardInputError) as err:
        _frames.check_ids(batch, known, None, source="b", dataset="d")
    assert str(err.value) == msg.ROWS_KNOWN.format(source="b", count=1, dataset="d", row=6)
    _frames.check_ids(batch.iloc[:5], known, None, source="b", dataset="d")  # new rows pass


def test_refresh_draws_the_test_set_from_fresh_batches_only():
    parts = None
    for number in (1, 2, 3):
        parts = _frames.append_batch(parts, _frame(400, start=400 * number, seed=number), number=number,
                                     id_column="id", share=0.2, seed=5)
    fresh_test = int((parts.test[BATCH_COLUMN] == 3).sum())
    # enough fresh test rows: nothing moves from train, old test rows retire
    refreshed = _frames.refresh_parts(parts, fresh_batches=[3], min_rows=fresh_test, id_column="id", seed=5)
    assert set(refreshed.test[BATCH_COLUMN]) == {3} and len(refreshed.test) == fresh_test
    assert refreshed.train.equals(parts.train)
    assert len(refreshed.retired) == len(parts.test) - fresh_test
    # more rows needed: train rows of the fresh batch move to test, never the other way
    bigger = _frames.refresh_parts(parts, fresh_batches=[3], min_rows=fresh_test + 50, id_column="id", seed=5)
    assert len(bigger.test) == fresh_test + 50 and set(bigger.test[BATCH_COLUMN]) == {3}
    assert len(bigger.train) == len(parts.train) - 50
    assert set(parts.test["id"]) <= set(bigger.test["id"]) | set(bigger.retired["id"])  # test rows never train
    assert not set(bigger.train["id"]) - set(parts.train["id"])
    assert bigger.n_rows == parts.n_rows
    # not enough fresh rows at all
    assert _frames.refresh_parts(parts, fresh_batches=[3], min_rows=10_000, id_column="id", seed=5) is None
