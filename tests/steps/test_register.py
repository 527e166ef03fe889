"""``register_run_model``: the one place a step run's model becomes a registry candidate (train and
ensemble both call it)."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.data import DatasetSpec
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps import code_version, register_run_model, run_step
from mlflow_steward.steps._register import ERR_NO_TEST_SET

SPEC = DatasetSpec(target="y", task="regression", numeric=("x",), categorical=())
TEST_URI = "runs:/abc/data/test.parquet"


def _data_run(tags: dict[str, str]) -> str:
    with mlflow.start_run(tags={names.TAG_STEP: "clean", **tags}) as run:
        pass
    return run.info.run_id


def _model_run(echo) -> tuple[str, str]:
    """A step run (with the step machinery's tags) that logged a small scikit-learn model."""
    import mlflow.sklearn
    from sklearn.linear_model import LinearRegression

    logged = {}

    def body(run_id: str) -> None:
        X = pd.DataFrame({"x": np.arange(20.0)})
        model = LinearRegression().fit(X, 2 * X["x"])
        info = mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                        pip_requirements=["scikit-learn"])
        logged["uri"] = info.model_uri

    outcome = run_step("train", {"t": 1}, {}, body, reuse=False, echo=echo)
    return outcome.run_id, logged["uri"]


def test_registers_with_the_data_records_and_tags_the_run(mlflow_store):
    lines: list[str] = []
    data_run = _data_run({names.TAG_TEST_DATA_URI: TEST_URI, names.TAG_DATASET_DIGEST: "d" * 64,
                          names.TAG_DATASET_VERSION: "v" * 12})
    run_id, uri = _model_run(lines.append)

    version = register_run_model(
        "m", run_id=run_id, model_uri=uri, data_run_id=data_run, spec=SPEC,
        metrics={"rmse": 1.5, "rmse_ci_low": 1.0, "rmse_ci_high": 2.0, "slice/x/1/rmse": 3.0},
        step="ensemble", echo=lines.append,
    )

    assert version == "1"
    mv = mlflow.MlflowClient().get_model_version("m", "1")
    assert mv.tags[names.TAG_TEST_DATA_URI] == TEST_URI
    assert mv.tags[names.TAG_DATASET_DIGEST] == "d" * 64
    assert mv.tags[names.TAG_DATASET_VERSION] == "v" * 12
    assert mv.tags[names.TAG_TRAIN_RUN] == run_id
    assert mv.tags[names.TAG_TASK] == "regression" and mv.tags[names.TAG_TARGET] == "y"
    # the code version is the model run's own tag (what run_step recorded), not re-derived
    assert mv.tags[names.TAG_CODE_VERSION] == code_version()
    assert names.metric_tag("rmse") in mv.tags and not any("slice" in k for k in mv.tags)
    assert str(mlflow.MlflowClient().get_model_version_by_alias("m", names.ALIAS_STAGING).version) == "1"
    # the run says which version it made, so a reused run still knows
    assert mlflow.get_run(run_id).data.tags[names.TAG_MODEL_VERSION] == "1"
    assert lines[-1] == "[ensemble] registered m version 1 (alias staging)"


def test_data_run_without_test_set_is_refused_before_anything_is_registered(mlflow_store):
    data_run = _data_run({names.TAG_DATASET_DIGEST: "d" * 64})
    run_id, uri = _model_run(lambda _: None)

    with pytest.raises(StewardInputError) as err:
        register_run_model("m", run_id=run_id, model_uri=uri, data_run_id=data_run, spec=SPEC,
                           metrics={"rmse": 1.0}, echo=lambda _: None)

    assert str(err.value) == ERR_NO_TEST_SET.format(
        run_id=run_id, name="m", data_run_id=data_run, tag=names.TAG_TEST_DATA_URI
    )
    assert mlflow.MlflowClient().search_registered_models() == []
    assert names.TAG_MODEL_VERSION not in mlflow.get_run(run_id).data.tags
