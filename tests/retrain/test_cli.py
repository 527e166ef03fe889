"""``steward data`` and ``steward retrain`` from the command line: every bad input is one line, exit 2,
and moves nothing; a failed ingest check exits 3 (rejected or quarantined); --allow takes the batch
and records it; data rollback with the model."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward import data, names
from mlflow_steward.cli import main

from .conftest import quiet

TARGET = ["--target", "median_house_value", "--task", "regression"]


def _steward(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="steward")


def _snapshot(name: str = "housing"):
    """What bad input must not move: the current version, the versions, the run count."""
    info = data.dataset_info(name)
    runs = mlflow.search_runs(search_all_experiments=True)
    return info.current, [v.version for v in info.versions], len(runs)


def _with_ids(path, tmp_path, name, start):
    frame = pd.read_csv(path)
    frame.insert(0, "house_id", np.arange(start, start + len(frame)))
    out = tmp_path / name
    frame.to_csv(out, index=False)
    return out, frame


def test_every_bad_input_is_one_line_exit_2_and_moves_nothing(mlflow_store, batches, tmp_path):
    first, frame = _with_ids(batches[0], tmp_path, "first.csv", 0)
    result = _steward("data", "add", "housing", first, *TARGET, "--id-column", "house_id")
    assert result.exit_code == 0, result.output
    before = _snapshot()
    second, second_frame = _with_ids(batches[1], tmp_path, "second.csv", 10_000)

    cases = {}
    cases["unknown dataset"] = (["data", "add", "other", second], "dataset 'other' does not exist yet")
    cases["unknown dataset (retrain)"] = (["retrain", "other"], "no dataset 'other'")
    dropped = tmp_path / "schema.csv"
    second_frame.drop(columns=["ocean_proximity"]).assign(extra=1).to_csv(dropped, index=False)
    cases["schema mismatch"] = (["data", "add", "housing", dropped],
                                "missing columns ocean_proximity; unexpected columns extra")
    duplicated = tmp_path / "duplicated.csv"
    second_frame.assign(house_id=lambda f: f["house_id"].where(f.index % 50 != 1, f["house_id"] - 1)).to_csv(
        duplicated, index=False)
    cases["duplicated ids in the batch"] = (["data", "add", "housing", duplicated],
                                            "ids of column 'house_id' appear more than once in the batch")
    known = tmp_path / "known.csv"
    pd.concat([second_frame.head(20), frame.head(3)]).to_csv(known, index=False)
    cases["ids already in the dataset"] = (["data", "add", "housing", known],
                                           "3 ids of column 'house_id' are already in dataset housing@1, e.g. 0, 1, 2")
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(second_frame.columns) + "\n")
    cases["empty batch"] = (["data", "add", "housing", empty], "has no data rows")
    cases["both modes"] = (["data", "add", "housing", second, "--quarantine", "--allow"], "exclude each other")
    cases["unknown version"] = (["data", "show", "housing@9"], "has no version 9")
    cases["rollback to itself"] = (["data", "rollback", "housing", "--to", "1", "--reason", "x"],
                                   "already at version 1")
    for case, (args, expected) in cases.items():
        result = _steward(*args)
        assert result.exit_code == 2, (case, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("steward: error: "), (case, result.stderr)
        assert expected in result.stderr, (case, result.stderr)
        assert _snapshot() == before, case
    assert mlflow.get_experiment_by_name("steward-datasets/other") is None


def test_a_failed_check_exits_3_quarantine_keeps_it_aside_and_allow_takes_it(mlflow_store, batches, tmp_path):
    assert _steward("data", "add", "housing", batches[0], *TARGET).exit_code == 0
    assert _steward("data", "add", "housing", batches[1]).exit_code == 0
    bad = batches[0].parent / "bad.csv"
    before = _snapshot()

    result = _steward("data", "add", "housing", bad)
    assert result.exit_code == 3, result.output
    assert "REJECTED bad.csv" in result.output and "label_given_features" in result.output
    current, versions, runs = _snapshot()
    assert (current, versions, runs) == (before[0], before[1], before[2] + 1)  # one record run, nothing else
    rejected = mlflow.search_runs([data.dataset_info("housing").experiment_id],
                                  filter_string=f"tags.`{names.TAG_STEP}` = 'dataset_rejected'")
    assert list(rejected[f"tags.{names.TAG_INGEST_VERDICT}"]) == ["rejected"]

    result = _steward("data", "add", "housing", bad, "--quarantine")
    assert result.exit_code == 3 and "QUARANTINED bad.csv as housing@3" in result.output, result.output
    assert data.get_version("housing").version == 2

    result = _steward("data", "add", "housing", bad, "--allow", "--reason", "checked by hand")
    assert result.exit_code == 0 and "ALLOWED bad.csv as housing@4" in result.output, result.output
    allowed = data.get_version("housing")
    assert (allowed.version, allowed.verdict, allowed.checks, allowed.reason) == (
        4, "allowed", ("label_given_features",), "checked by hand")
    report = mlflow.artifacts.download_artifacts(run_id=allowed.run_id, artifact_path=names.ARTIFACT_INGEST_HTML)
    assert "label_given_features" in open(report).read()

    shown = _steward("data", "show", "housing@3")
    assert shown.exit_code == 0 and "housing@3 (not current): add, verdict quarantined" in shown.output
    listed = _steward("data", "list", "housing", "--json")
    assert listed.exit_code == 0 and '"current": 4' in listed.output


def test_data_rollback_with_the_model(housing_v1, batches, fast):
    from mlflow_steward.retrain import retrain

    assert retrain(fast(), echo=quiet).promoted
    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    assert retrain(fast(), echo=quiet).promoted
    client = mlflow.MlflowClient()
    assert str(client.get_registered_model("housing").aliases["production"]) == "2"
    result = _steward("data", "rollback", "housing", "--to", "1", "--reason", "batch 2 mislabelled",
                      "--with-model", "housing")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["dataset housing: current version v2 -> v1",
                                          "model housing: production version 2 -> 1"]
    assert data.get_version("housing").version == 1
    assert str(client.get_registered_model("housing").aliases["production"]) == "1"
    from mlflow_steward.registry import full_history

    last = full_history(client, "housing")[-1]
    assert (last.action, last.to_version) == ("rollback", "1")
    assert last.reason == "dataset housing rolled back to v1: batch 2 mislabelled"
    # no new data since: the retrain has nothing to do
    assert retrain(fast(), echo=quiet).reused


@pytest.mark.parametrize("to", ["2"])
def test_rollback_with_a_model_never_trained_on_the_version_moves_nothing(housing_v1, batches, fast, to):
    from mlflow_steward.retrain import retrain

    assert retrain(fast(), echo=quiet).promoted
    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    data.rollback_dataset("housing", to=1, reason="test")
    result = _steward("data", "rollback", "housing", "--to", to, "--reason", "x", "--with-model", "housing")
    assert result.exit_code == 2 and "has no version trained on housing@2" in result.stderr, result.output
    assert data.get_version("housing").version == 1
