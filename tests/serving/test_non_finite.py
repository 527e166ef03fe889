"""Non-finite numbers in files reach the model's own validation on every scoring path (issue 12,
defect 3): ``steward evaluate`` on a CSV or Parquet file with ``inf``, ``-inf`` or ``1e400`` exits 2
naming the column, before any run is written."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from click.testing import CliRunner

from mlflow_steward.serving import log_pipeline_model

TARGET = "median_house_value"


@pytest.fixture
def logged_uri(mlflow_store, housing_xy) -> str:
    from sklearn.linear_model import Ridge

    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    model = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig()), Ridge())
    with mlflow.start_run():
        return log_pipeline_model(model.fit(X, y), input_example=X.head(5)).model_uri


@pytest.mark.parametrize(
    ("suffix", "value", "shown"),
    [(".csv", "inf", "inf (float)"), (".csv", "-inf", "-inf (float)"), (".csv", "1e400", "inf (float)"),
     (".parquet", np.inf, "inf (float)"), (".parquet", -np.inf, "-inf (float)")],
)  # fmt: skip
def test_steward_evaluate_refuses_non_finite_numbers_naming_the_column(
    logged_uri, housing_xy, tmp_path, suffix, value, shown
):
    from mlflow_steward.cli._main import main

    X, y = housing_xy
    data = X.assign(**{TARGET: y}).head(300).astype({"total_rooms": object})
    data.loc[7, "total_rooms"] = value
    path = tmp_path / f"scored{suffix}"
    if suffix == ".csv":
        data.to_csv(path, index=False)  # read back by pandas: "inf" and "1e400" become float inf
    else:
        data.astype({"total_rooms": float}).to_parquet(path, index=False)
    runs_before = len(mlflow.search_runs(search_all_experiments=True))
    result = CliRunner().invoke(main, ["evaluate", logged_uri, "--data", str(path), "--target", TARGET,
                                       "--task", "regression"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        f"the model refused the data: column 'total_rooms' expects a finite number (or null), got {shown} in row 7"
        in result.output
    )
    assert "Traceback" not in result.output
    assert len(mlflow.search_runs(search_all_experiments=True)) == runs_before  # nothing written
