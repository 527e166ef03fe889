"""The ingest checks on real housing batches: a clean batch passes every check; each kind of fault
fails the check made for it and names the column(s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward import data
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.retrain import IngestConfig
from mlflow_steward.retrain._checks import run_checks


def _checks(path, **config):
    plan = data.plan_batch("housing", path)
    return {c.name: c for c in run_checks(plan, IngestConfig(**config))}


def _variant(batches, tmp_path, name, change):
    frame = pd.read_csv(batches[1])
    change(frame)
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_clean_batch_passes_every_check(housing_v1, batches):
    checks = _checks(batches[1])
    assert sorted(checks) == ["feature_distribution", "label_distribution", "label_given_features", "outliers"]
    assert all(c.passed for c in checks.values()), {n: c.detail for n, c in checks.items()}
    assert 0.7 < checks["label_given_features"].scores["loss_ratio"] < 1.3


def test_a_shuffled_label_keeps_its_distribution_but_not_its_relation_to_the_features(housing_v1, batches, tmp_path):
    rng = np.random.default_rng(0)
    path = _variant(batches, tmp_path, "shuffled",
                    lambda f: f.__setitem__("median_house_value", rng.permutation(f["median_house_value"].to_numpy())))
    checks = _checks(path)
    assert checks["label_distribution"].passed  # the marginal is unchanged: no drift check can see it
    failed = checks["label_given_features"]
    assert not failed.passed and failed.columns == ("median_house_value",)
    assert failed.scores["loss_ratio"] > 2 and failed.scores["p_value"] < 1e-6


def test_a_shifted_label_fails_the_label_distribution_check(housing_v1, batches, tmp_path):
    path = _variant(batches, tmp_path, "label", lambda f: f.__setitem__("median_house_value", f["median_house_value"] * 1.6))
    checks = _checks(path)
    failed = checks["label_distribution"]
    assert not failed.passed and failed.columns == ("median_house_value",)
    assert "mean_shift" in failed.detail and "housing@1" in failed.detail


def test_a_shifted_feature_is_named(housing_v1, batches, tmp_path):
    path = _variant(batches, tmp_path, "feature", lambda f: f.__setitem__("housing_median_age", f["housing_median_age"] * 0.5))
    checks = _checks(path)
    failed = checks["feature_distribution"]
    assert not failed.passed and failed.columns == ("housing_median_age",)
    assert failed.detail.startswith("features far from housing@1: housing_median_age (")
    assert checks["label_distribution"].passed


def test_an_implausible_share_of_outliers_is_named(housing_v1, batches, tmp_path):
    def blow_up(frame):
        rows = frame.sample(frac=0.15, random_state=1).index
        frame.loc[rows, "total_rooms"] = frame.loc[rows, "total_rooms"] * 1000

    checks = _checks(_variant(batches, tmp_path, "outliers", blow_up))
    failed = checks["outliers"]
    assert not failed.passed and failed.columns == ("total_rooms",)
    assert "more than 5% of the values outside housing@1's range: total_rooms (15" in failed.detail
    # a higher tolerance lets the same batch through that check
    assert _checks(_variant(batches, tmp_path, "outliers2", blow_up), max_outlier_share=0.3)["outliers"].passed


def test_the_drift_keys_are_checked_before_anything_is_read():
    with pytest.raises(StewardInputError, match="levle"):
        IngestConfig(drift={"levle": 0.1})
    with pytest.raises(StewardInputError, match="on_failure"):
        IngestConfig(on_failure="drop")
