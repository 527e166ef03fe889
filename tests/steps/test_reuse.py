"""Steps are reused only when step, parameters, inputs and code version all match."""

from __future__ import annotations

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.steps import code_version, run_step, step_key


def _body(calls: list[str]):
    def body(run_id: str) -> None:
        calls.append(run_id)
        mlflow.log_metric("x", 1.0)

    return body


def test_identical_step_is_reused_and_different_parameters_are_not(mlflow_store):
    calls: list[str] = []
    first = run_step("clean", {"seed": 1}, {"data": "abc"}, _body(calls), echo=lambda _: None)
    again = run_step("clean", {"seed": 1}, {"data": "abc"}, _body(calls), echo=lambda _: None)
    other_params = run_step("clean", {"seed": 2}, {"data": "abc"}, _body(calls), echo=lambda _: None)
    other_inputs = run_step("clean", {"seed": 1}, {"data": "xyz"}, _body(calls), echo=lambda _: None)

    assert not first.reused and again.reused and again.run_id == first.run_id
    assert not other_params.reused and not other_inputs.reused
    assert len(calls) == 3
    run = mlflow.get_run(first.run_id)
    assert run.data.tags[names.TAG_STEP] == "clean"
    assert run.data.tags[names.TAG_STEP_KEY] == step_key("clean", {"seed": 1}, {"data": "abc"})
    assert run.data.tags[names.TAG_CODE_VERSION] == code_version()
    assert run.data.params == {"step.seed": "1"}


def test_failed_step_is_marked_failed_and_never_reused(mlflow_store):
    def failing(run_id: str) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_step("tune", {"n": 1}, {}, failing, echo=lambda _: None)
    failed = mlflow.search_runs(output_format="list")
    assert [r.info.status for r in failed] == ["FAILED"]

    calls: list[str] = []
    outcome = run_step("tune", {"n": 1}, {}, _body(calls), echo=lambda _: None)
    assert not outcome.reused and calls == [outcome.run_id]


def test_reuse_can_be_switched_off(mlflow_store):
    calls: list[str] = []
    run_step("train", {}, {}, _body(calls), echo=lambda _: None)
    run_step("train", {}, {}, _body(calls), reuse=False, echo=lambda _: None)
    assert len(calls) == 2


def test_step_key_changes_with_code_version(monkeypatch):
    from mlflow_steward.steps import _reuse

    key = step_key("clean", {}, {})
    monkeypatch.setattr(_reuse, "code_version", lambda: "0.0.0+other")
    assert step_key("clean", {}, {}) != key
