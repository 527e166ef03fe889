"""The retrain cycle on a real store: promote, nothing new on a second run, a new batch, warm start,
the cycle report, bad input refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from mlflow_steward import data, names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.retrain import retrain
from mlflow_steward.retrain._job import TEST_SET_TOO_SMALL

from .conftest import SPEC, quiet


def _versions(model="housing"):
    return sorted(int(mv.version) for mv in mlflow.MlflowClient().search_model_versions(f"name = '{model}'"))


def _production(model="housing"):
    value = mlflow.MlflowClient().get_registered_model(model).aliases.get("production")
    return None if value is None else str(value)


def _runs():
    return mlflow.search_runs(search_all_experiments=True)


def test_retrain_promotes_then_registers_nothing_then_trains_on_the_new_batch(housing_v1, batches, fast, tmp_path):
    client = mlflow.MlflowClient()
    first = retrain(fast(), echo=quiet)
    assert first.promoted and first.candidate == "1" and first.exit_code == 0
    mv = client.get_model_version("housing", "1")
    assert (mv.tags[names.TAG_DATASET_NAME], mv.tags[names.TAG_DATASET_VERSION]) == ("housing", "1")
    assert mv.tags[names.TAG_DATASET_DIGEST] == housing_v1.digest
    assert _production() == "1"

    again = retrain(fast(), echo=quiet)
    assert again.reused and again.run_id == first.run_id and again.exit_code == 0
    assert _versions() == [1] and _production() == "1"

    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    second = retrain(fast(), echo=quiet)
    assert second.candidate == "2" and second.production_before == "1"
    assert client.get_model_version("housing", "2").tags[names.TAG_DATASET_VERSION] == "2"
    assert second.promoted and _production() == "2", second.decision["reasons"]
    # warm start: the production model's best parameters were the first trial of the new study
    report = second.report
    first_params = json.loads((Path(mlflow.artifacts.download_artifacts(
        run_id=first.report["runs"]["tune"], artifact_path="tuning/best.json"))).read_text())["params"]
    assert report["warm_start"] == [{"family": "ridge", "params": first_params}]
    trial0 = report["trials"][0]
    assert trial0["number"] == 0 and float(trial0["params"]["alpha"]) == pytest.approx(first_params["alpha"])
    # the cycle report: JSON and self-contained HTML on the retrain run
    html = Path(mlflow.artifacts.download_artifacts(run_id=second.run_id,
                                                    artifact_path=names.ARTIFACT_RETRAIN_HTML)).read_text()
    assert "housing@2" in html and "ocean_proximity" in html and "data:image/png;base64," in html
    assert "src=\"http" not in html and "<script" not in html and "href=\"http" not in html
    saved = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=second.run_id, artifact_path=names.ARTIFACT_RETRAIN_REPORT)).read_text())
    assert saved["decision"]["version"] == "2" and saved["dataset"]["version"] == 2
    assert {r["slice"] for r in saved["decision"]["rows"]} >= {"overall", "ocean_proximity"}
    # the dataset version carries the gate decisions made on its test set
    info = data.dataset_info("housing")
    assert [(v.version, v.decisions, v.promotions) for v in info.versions] == [(2, 1, 1), (1, 1, 1)]


def test_bad_input_is_refused_before_anything_is_written(mlflow_store, batches, fast, tmp_path):
    before = len(_runs())
    with pytest.raises(StewardInputError, match="no dataset 'housing'"):
        retrain(fast(), echo=quiet)
    data.commit_batch(data.plan_batch("housing", batches[0], spec=SPEC, test_share=0.01), verdict="accepted")
    before = len(_runs())
    record = data.get_version("housing")
    with pytest.raises(StewardInputError) as err:
        retrain(fast(), echo=quiet)
    assert str(err.value) == TEST_SET_TOO_SMALL.format(label="housing@1", rows=record.rows["test"], needed=30)
    with pytest.raises(StewardInputError, match="margn"):
        retrain(fast(gate={"margn": 0.1}, min_test_rows=2), echo=quiet)
    with pytest.raises(StewardInputError, match="n_trials"):
        fast(n_trials=0)
    with pytest.raises(StewardInputError):
        retrain(fast(model_name="  ", min_test_rows=2), echo=quiet)
    assert len(_runs()) == before
    assert mlflow.MlflowClient().search_registered_models() == []
    assert names.TAG_RETRAIN_LOCK not in mlflow.MlflowClient().get_experiment(record.experiment_id).tags
