"""Test-set reuse accounting: promotions counted per test-set generation; past the limit the retrain
refreshes the test set from the batches production never trained on (rows only move train -> test
-> retired), or, when it cannot, the decision warns in its verdict and the version's description."""

from __future__ import annotations

import mlflow

from mlflow_steward import data, names

from .conftest import quiet


def _ids(frame):
    return set(map(tuple, frame.drop(columns=[data.BATCH_COLUMN]).round(6).astype(str).to_numpy().tolist()))


def test_past_the_limit_the_retrain_refreshes_the_test_set_first(housing_v1, batches, fast):
    from mlflow_steward.retrain import retrain

    assert retrain(fast(max_promotions=1), echo=quiet).promoted  # generation 1 decided 1 promotion
    v2 = data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    outcome = retrain(fast(max_promotions=1, refresh_min_rows=50), echo=quiet)
    assert outcome.refreshed == 3 and outcome.version == 3 and not outcome.warnings
    record, parts = data.load_version("housing", 3)
    assert (record.action, record.verdict, record.generation, record.parent) == ("refresh", "refresh", 2, 2)
    _, old = data.load_version("housing", 2)
    # the new test set holds batch 2's test rows only; every earlier test row is retired, none trains
    assert set(parts.test[data.BATCH_COLUMN]) == {2}
    assert len(parts.test) == int((old.test[data.BATCH_COLUMN] == 2).sum())
    assert _ids(parts.retired) == _ids(old.test[old.test[data.BATCH_COLUMN] == 1])
    assert not _ids(parts.train) & (_ids(old.test) | _ids(parts.retired))
    assert parts.train.equals(old.train) and parts.n_rows == v2.n_rows
    # the challenger was trained and gated on the refreshed version
    client = mlflow.MlflowClient()
    challenger = client.get_model_version("housing", outcome.candidate)
    assert challenger.tags[names.TAG_DATASET_VERSION] == "3"
    assert outcome.decision["n_rows"] <= len(parts.test)
    history = data.dataset_info("housing").history
    assert history[-1].action == "refresh" and "decided 1 promotions" in history[-1].reason


def test_when_no_refresh_is_possible_the_decision_warns(housing_v1, batches, fast):
    from mlflow_steward.retrain import retrain

    assert retrain(fast(max_promotions=1), echo=quiet).promoted
    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    outcome = retrain(fast(max_promotions=1, refresh_min_rows=100_000), echo=quiet)
    assert outcome.refreshed is None and outcome.version == 2
    (warning,) = outcome.warnings
    assert "test set generation 1 of dataset housing has already decided 1 promotions (limit 1)" in warning
    mv = mlflow.MlflowClient().get_model_version("housing", outcome.candidate)
    assert mv.tags[names.TAG_TESTSET_WARNING] == warning
    assert mv.description.startswith("<!-- steward:testset -->\n⚠️ **Test set overused.**")
    assert "<!-- steward:gate -->" in mv.description  # the gate's own section is kept
    gate_run = mlflow.MlflowClient().get_run(outcome.decision["gate_run_id"])
    assert gate_run.data.tags[names.TAG_TESTSET_WARNING] == warning
    assert outcome.report["warnings"] == [warning]
