"""Small housing batches in a fixed random order, and a fast retrain configuration (ridge, 2 trials)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward import data
from mlflow_steward.data import DatasetSpec

SPEC = DatasetSpec(target="median_house_value", task="regression")
ROWS_PER_BATCH = 700
FAST = {
    "families": ("ridge",),
    "n_trials": 2,
    "cv": 2,
    "gate": {"n_resamples": 300, "min_unseen_rows": 30, "slice_columns": ["ocean_proximity"]},
    "evaluation": {"n_resamples": 200, "importance_repeats": 1},
    "lock_wait": 120.0,
}


def write_batches(root, rows_per_batch: int = ROWS_PER_BATCH, n: int = 3) -> list:
    """``n`` disjoint batches of the bundled housing data in a fixed random order, plus ``bad.csv``:
    the third batch with its target shuffled."""
    frame = pd.read_csv(data.demo_dataset_path())
    order = np.random.default_rng(15).permutation(len(frame))
    paths = []
    for i in range(n):
        path = root / f"batch{i + 1}.csv"
        frame.iloc[order[i * rows_per_batch:(i + 1) * rows_per_batch]].to_csv(path, index=False)
        paths.append(path)
    bad = pd.read_csv(paths[2])
    bad["median_house_value"] = np.random.default_rng(3).permutation(bad["median_house_value"].to_numpy())
    bad.to_csv(root / "bad.csv", index=False)
    return paths


@pytest.fixture(scope="session")
def batches(tmp_path_factory):
    return write_batches(tmp_path_factory.mktemp("retrain-batches"))


@pytest.fixture
def fast():
    """``fast(**overrides)``: a RetrainConfig for dataset/model ``housing`` that runs in seconds."""
    from mlflow_steward.retrain import RetrainConfig

    def make(**overrides):
        return RetrainConfig(**{"dataset": "housing", **FAST, **overrides})

    return make


@pytest.fixture
def housing_v1(mlflow_store, batches):
    """Dataset ``housing`` with its first batch as version 1."""
    return data.commit_batch(data.plan_batch("housing", batches[0], spec=SPEC), verdict="accepted")


def quiet(_: str) -> None:
    pass
