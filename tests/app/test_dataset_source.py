"""The server page's dataset source reads named dataset versions as ``data`` records them."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd

from mlflow_steward import data
from mlflow_steward.app import dataset_page
from mlflow_steward.app._dataset_source import read_datasets
from mlflow_steward.data import DatasetSpec


def test_dataset_page_lists_versions_and_the_moves_that_took_effect(mlflow_store, tmp_path):
    frame = pd.read_csv(data.demo_dataset_path())
    order = np.random.default_rng(1).permutation(len(frame))
    paths = []
    for i in range(2):
        path = tmp_path / f"b{i}.csv"
        frame.iloc[order[i * 200:(i + 1) * 200]].to_csv(path, index=False)
        paths.append(path)
    spec = DatasetSpec(target="median_house_value", task="regression")
    data.commit_batch(data.plan_batch("housing", paths[0], spec=spec), verdict="accepted")
    data.commit_batch(data.plan_batch("housing", paths[1]), verdict="accepted")
    data.rollback_dataset("housing", to=1, reason="look again")
    client = mlflow.MlflowClient()
    page = dataset_page(client, "housing")
    assert [(v.version, v.rows, v.current, v.parent, v.ingest_verdict) for v in page.versions] == [
        ("v2", 400, False, "v1", "accepted"), ("v1", 200, True, None, "accepted")]
    assert [(m.action, m.from_version, m.to_version, m.reason) for m in page.moves][-1] == (
        "rollback", "v2", "v1", "look again")
    (summary,) = read_datasets(client)
    assert (summary.name, summary.current, summary.versions, summary.rows) == ("housing", "v1", 2, 200)
    assert dataset_page(client, "nope").versions == ()
