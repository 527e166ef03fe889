"""``--capture-dir``: a batch's scored rows as captures in serving's Parquet layout, read back by serving's reader."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.batch import score_table
from mlflow_steward.batch import _captures as captures_module
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import join_labels, read_captures


def _captured_files(directory) -> list:
    return sorted(p.name for p in directory.rglob("*.parquet"))


def test_captures_hold_what_the_model_saw_and_said_keyed_by_the_key_column(housing, tmp_path):
    result = score_table(housing.uri, housing.test_path, tmp_path / "out", key_columns=["id"], chunk_rows=1500,
                         capture_dir=tmp_path / "captures")  # fmt: skip
    assert result.captures == tmp_path / "captures"
    out = pd.read_parquet(tmp_path / "out")
    captured = read_captures(f"parquet:{tmp_path / 'captures'}")
    assert len(captured) == len(out) == len(housing.test)
    captured = captured.assign(id=captured["request_id"].astype(int)).sort_values("id").reset_index(drop=True)
    assert captured["id"].tolist() == out["id"].tolist()  # one request per row, its id the key
    assert set(captured["row"]) == {0} and set(captured["attempt"]) == {0}
    np.testing.assert_array_equal(captured["prediction"].astype(float).to_numpy(), out["prediction"].to_numpy())
    assert set(captured["model_name"]) == {housing.name} and set(captured["model_version"]) == {housing.version}
    assert captured["ts"].nunique() == 1  # the job's start
    features = [c for c in housing.test.columns if c not in ("id", housing.target)]
    pd.testing.assert_frame_equal(captured[features].reset_index(drop=True),
                                  housing.test[features].reset_index(drop=True), check_dtype=False)  # fmt: skip
    # labels that arrive later join by the key
    labels = pd.DataFrame({"request_id": housing.test["id"].astype(str).head(50), "label": housing.test[housing.target].head(50)})
    joined = join_labels(f"parquet:{tmp_path / 'captures'}", labels)
    assert joined.labelled_rows == 50 and joined.unmatched_requests == ()


def test_classifier_captures_carry_the_probabilities_and_chunks_are_requests_without_keys(adult, tmp_path):
    score_table(adult.uri, adult.test_path, tmp_path / "out", chunk_rows=400, capture_dir=tmp_path / "captures")
    out = pd.read_parquet(tmp_path / "out")
    captured = read_captures(f"parquet:{tmp_path / 'captures'}")
    assert captured["request_id"].nunique() == -(-len(adult.test) // 400)  # one request per chunk
    captured = captured.sort_values(["request_id", "row"]).reset_index(drop=True)
    assert captured["prediction"].tolist() == out["prediction"].tolist()
    probabilities = pd.DataFrame([json.loads(text) for text in captured["probabilities"]])
    columns = [c for c in out.columns if c.startswith("probability/")]
    np.testing.assert_array_equal(probabilities[[c.split("/", 1)[1] for c in columns]].to_numpy(), out[columns].to_numpy())


def test_a_failed_job_publishes_no_captures_and_a_second_job_adds_to_the_directory(housing, tmp_path):
    captures = tmp_path / "captures"
    score_table(housing.uri, housing.test_path, tmp_path / "first", key_columns=["id"], capture_dir=captures)
    before = _captured_files(captures)
    frame = housing.test.copy()
    frame["median_income"] = frame["median_income"].astype(object)
    frame.loc[len(frame) - 1, "median_income"] = "high"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(StewardInputError, match="median_income"):
        score_table(housing.uri, bad, tmp_path / "second", key_columns=["id"], chunk_rows=1000, capture_dir=captures)
    assert _captured_files(captures) == before
    assert [p.name for p in captures.iterdir()] == ["captures"]  # no staging left behind
    score_table(housing.uri, housing.test_path, tmp_path / "third", key_columns=["id"], capture_dir=captures)
    again = read_captures(f"parquet:{captures}")
    assert len(again) == 2 * len(housing.test)
    assert sorted(again["attempt"].unique()) == [0, 1]  # the same keys scored twice: a second attempt


def test_a_capture_dir_that_is_something_else_is_refused_before_scoring(housing, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("mine")
    with pytest.raises(StewardInputError) as info:
        score_table(housing.uri, housing.test_path, tmp_path / "out", capture_dir=tmp_path / "notes")
    assert str(info.value) == captures_module.NOT_A_CAPTURE_DIR.format(
        path=tmp_path / "notes", detail="exists and is not a Parquet capture directory (no captures/ inside)")  # fmt: skip
    assert not (tmp_path / "out").exists()
