"""Issue 12, defect 2: the gate scores both models only on rows neither was trained on.

`steward run`, then `steward run --seed 7 --no-promote` (another split of the same data: most of
v2's test set is v1's training set), then `steward promote NAME 2`. A k-nearest-neighbours model with
distance weights predicts its own training rows exactly, so scoring v1 on them would make it look
far better than it is and an equal challenger would be rejected.
"""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main

NAME = "leak"
TARGET = "median_house_value"
GATE = '{"n_resamples": 500, "slice_columns": ["ocean_proximity"]}'


def _steward(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _split(version: str, which: str) -> pd.DataFrame:
    mv = mlflow.MlflowClient().get_model_version(NAME, version)
    data_run = mlflow.get_run(mv.run_id).data.tags[names.TAG_DATA_RUN]
    path = names.ARTIFACT_TRAIN_DATA if which == "train" else names.ARTIFACT_TEST_DATA
    return pd.read_parquet(mlflow.artifacts.download_artifacts(run_id=data_run, artifact_path=path))


def _rmse(y, pred) -> float:
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(pred)) ** 2)))


@pytest.mark.e2e
def test_champion_is_scored_only_on_rows_it_did_not_train_on(mlflow_store, housing_path, tmp_path):
    data = tmp_path / "housing.csv"
    pd.read_csv(housing_path).sample(6000, random_state=1).to_csv(data, index=False)
    common = ["--data", str(data), "--target", TARGET, "--task", "regression", "--strategy", "grid",
              "--families", "knn", "--cv", "2", "--ensemble-method", "none", "--model-name", NAME,
              "--gate-config", GATE]
    first = _steward("run", *common)
    assert first.exit_code == 0, first.output
    second = _steward("run", *common, "--seed", "7", "--no-promote")
    assert second.exit_code == 0, second.output
    client = mlflow.MlflowClient()
    for version in ("1", "2"):  # each version records the rows it was trained on
        mv = client.get_model_version(NAME, version)
        assert mv.tags[names.TAG_TRAIN_DATA_URI].endswith(names.ARTIFACT_TRAIN_DATA)

    promoted = _steward("promote", NAME, "2", "--gate-config", GATE, "--json")
    decision = json.loads(promoted.output)

    # the rows neither model saw, computed independently (full-row equality with both training sets)
    test2, train1, train2 = _split("2", "test"), _split("1", "train"), _split("2", "train")
    seen = pd.concat([train1, train2]).drop_duplicates()
    marked = test2.merge(seen.assign(_seen=True), how="left", on=list(test2.columns))
    unseen = test2[marked["_seen"].isna().to_numpy()]
    assert len(unseen) < 0.3 * len(test2)  # most of v2's test set was v1's training set
    assert decision["n_rows"] == len(unseen) >= 100
    check = next(c for c in decision["checks"] if c["name"] == "unseen rows")
    assert f"scored on the {len(unseen):,} of {len(test2):,} test rows" in check["detail"]

    features = [c for c in test2.columns if c != TARGET]
    champion = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    overall = next(r for r in decision["rows"] if r["slice"] == "overall")
    honest = _rmse(unseen[TARGET], champion.predict(unseen[features]))
    assert overall["champion"] == pytest.approx(honest, rel=1e-9)  # the champion's honest RMSE
    leaked = _rmse(test2[TARGET], champion.predict(test2[features]))
    assert leaked < 0.5 * honest  # what the gate reported before: v1 scored on its own training rows

    # an equal challenger is not rejected because of leakage: within the margin overall, no slice worse
    challenger = mlflow.pyfunc.load_model(f"models:/{NAME}/2")
    fair = _rmse(unseen[TARGET], challenger.predict(unseen[features]))
    assert overall["challenger"] == pytest.approx(fair, rel=1e-9)
    assert overall["difference_high"] <= overall["margin"] and overall["verdict"] == "ok"
    assert not [r for r in decision["rows"] if r["verdict"] == "worse"]
    assert promoted.exit_code == 0 and decision["promoted"], decision["reasons"]
    assert str(client.get_registered_model(NAME).aliases["production"]) == "2"
    # on v2's whole test set the difference would have been far beyond the margin (the issue's +11,744)
    unfair = _rmse(test2[TARGET], challenger.predict(test2[features])) - leaked
    assert unfair > 10 * overall["margin"]
