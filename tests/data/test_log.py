"""log_dataset_inputs: two dataset inputs with contexts, run tags, the spec artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.data import (
    DatasetSpec,
    dataset_digest,
    load_dataset,
    log_dataset_inputs,
    split_train_test,
)
from mlflow_steward.data import _log
from mlflow_steward.exceptions import StewardInputError

HOUSING = DatasetSpec(target="median_house_value", task="regression", stratify_column="median_income")


@pytest.fixture(scope="module")
def housing(housing_path):
    return load_dataset(housing_path, HOUSING)


@pytest.fixture(scope="module")
def split(housing):
    return split_train_test(housing.frame, housing.spec)


def test_inputs_and_tags_on_the_active_run(mlflow_store, housing, split):
    import mlflow

    train, test = split
    with mlflow.start_run() as run:
        returned = log_dataset_inputs(train, test, housing.spec, source=housing.source)
    finished = mlflow.MlflowClient().get_run(run.info.run_id)

    inputs = finished.inputs.dataset_inputs
    assert len(inputs) == 2
    by_context = {
        {t.key: t.value for t in i.tags}["mlflow.data.context"]: i for i in inputs
    }
    assert set(by_context) == {"training", "testing"}
    for context, frame, tag in (
        ("training", train, names.TAG_TRAIN_DIGEST),
        ("testing", test, names.TAG_TEST_DIGEST),
    ):
        dataset_input = by_context[context]
        dataset = dataset_input.dataset
        assert dataset.name == f"housing@{housing.version}"
        assert dataset.digest == dataset_digest(frame)[:12]
        assert json.loads(dataset.source) == {"uri": housing.source}
        assert json.loads(dataset.profile)["num_rows"] == len(frame)
        input_tags = {t.key: t.value for t in dataset_input.tags}
        assert input_tags[names.TAG_DATASET_DIGEST] == housing.digest
        assert input_tags[tag] == dataset_digest(frame)

    tags = finished.data.tags
    expected = {
        names.TAG_DATASET_DIGEST: housing.digest,  # train + test back in file order = the loaded frame
        names.TAG_DATASET_VERSION: housing.version,
        names.TAG_TRAIN_DIGEST: dataset_digest(train),
        names.TAG_TEST_DIGEST: dataset_digest(test),
        names.TAG_DATASET_SOURCE: housing.source,
        names.TAG_TASK: "regression",
        names.TAG_TARGET: "median_house_value",
        names.TAG_SPEC: housing.spec.to_json(),
    }
    assert {k: tags.get(k) for k in expected} == expected
    assert returned == expected
    assert DatasetSpec.from_json(tags[names.TAG_SPEC]) == housing.spec
    spec_file = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=names.ARTIFACT_DATASET_SPEC
    )
    assert DatasetSpec.from_json(Path(spec_file).read_text()) == housing.spec


def test_name_and_path_source(mlflow_store, split, housing):
    import mlflow

    train, test = split
    with mlflow.start_run() as run:
        log_dataset_inputs(train, test, housing.spec, source=Path(housing.source), name="calif")
    inputs = mlflow.MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    assert {i.dataset.name for i in inputs} == {f"calif@{housing.version}"}


def test_needs_an_active_run(mlflow_store, split, housing):
    with pytest.raises(StewardInputError) as info:
        log_dataset_inputs(*split, housing.spec, source=housing.source)
    assert str(info.value) == _log.LOG_NO_ACTIVE_RUN


def test_unresolvable_source(mlflow_store, split, housing):
    import mlflow

    with mlflow.start_run(), pytest.raises(StewardInputError) as info:
        log_dataset_inputs(*split, housing.spec, source="nosuchscheme:housing")
    prefix = _log.LOG_BAD_SOURCE.format(source="nosuchscheme:housing", reason="")
    assert str(info.value).startswith(prefix)


def test_frame_checks(split, housing):
    train, test = split
    with pytest.raises(StewardInputError) as info:
        log_dataset_inputs(train.to_numpy(), test, housing.spec, source="x.csv")
    assert str(info.value) == _log.LOG_NOT_A_FRAME.format(which="train", kind="ndarray")
    with pytest.raises(StewardInputError) as info:
        log_dataset_inputs(train, test.drop(columns="median_house_value"), housing.spec, source="x.csv")
    assert str(info.value) == _log.LOG_NO_TARGET.format(which="test", target="median_house_value")
    shorter = test.drop(columns="longitude")
    with pytest.raises(StewardInputError) as info:
        log_dataset_inputs(train, shorter, housing.spec, source="x.csv")
    assert str(info.value) == _log.LOG_COLUMNS_DIFFER.format(
        train=list(train.columns), test=list(shorter.columns)
    )


def test_default_names():
    assert _log._default_name("/data/housing.csv.gz") == "housing"
    assert _log._default_name("s3://bucket/dir/adult.parquet") == "adult"
    assert _log._default_name("") == "dataset"
    assert isinstance(_log._full_frame(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})), pd.DataFrame)
