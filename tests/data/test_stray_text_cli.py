"""Issue 12, defect 1 from the command line: a numeric column with a few text cells is refused before
any run starts, unless those values are declared missing or coercion is asked for."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main

FAST = ["--families", "ridge", "--n-trials", "1", "--cv", "2", "--ensemble-method", "none"]


@pytest.fixture
def bad_csv(housing_path, tmp_path) -> Path:
    """The issue's reproduction: 1,500 housing rows, ``total_rooms`` is 'abc' in the first row."""
    frame = pd.read_csv(housing_path).sample(1500, random_state=0)
    frame["total_rooms"] = frame["total_rooms"].astype(object)
    frame.iloc[0, 3] = "abc"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def _run(bad_csv: Path, *extra: str):
    args = ["run", "--data", str(bad_csv), "--target", "median_house_value", "--task", "regression",
            *FAST, "--model-name", "d1", *extra]
    return CliRunner().invoke(main, args)


def test_stray_text_is_refused_before_any_run(mlflow_store, bad_csv):
    result = _run(bad_csv)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "column 'total_rooms' holds numbers in 1,499 of 1,500 non-missing rows" in lines[0]
    assert "row 0: 'abc'" in lines[0] and "--coerce-numeric total_rooms" in lines[0]
    assert mlflow.search_runs(search_all_experiments=True, output_format="list") == []  # no run at all
    assert mlflow.MlflowClient().search_registered_models() == []


@pytest.mark.e2e
def test_coerced_cells_are_missing_and_counted(mlflow_store, bad_csv):
    result = _run(bad_csv, "--coerce-numeric", "total_rooms", "--no-promote")
    assert result.exit_code == 0, result.output
    [clean] = mlflow.search_runs(filter_string=f"tags.`{names.TAG_STEP}` = 'clean'", output_format="list")
    report = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=clean.info.run_id, artifact_path=names.ARTIFACT_CLEANING_REPORT)).read_text())
    assert report["coerced_to_missing"] == {"total_rooms": 1}
    assert clean.data.metrics["cleaning/coerced_to_missing/total_rooms"] == 1.0
    info = mlflow.models.get_model_info("models:/d1/1")
    kinds = {f["name"]: f["kind"] for f in info.metadata["steward_features"]}
    assert kinds["total_rooms"] == "numeric"  # not categorical: the model takes numbers for it
