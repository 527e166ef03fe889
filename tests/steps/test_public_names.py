"""The step machinery moved from ``workflow`` to ``steps``: ``workflow``'s public names still work
and are the very same objects (one implementation, re-exported)."""

from __future__ import annotations

import pytest

import mlflow_steward.steps as steps
import mlflow_steward.workflow as workflow


@pytest.mark.parametrize(
    "name",
    ["StepOutcome", "code_version", "dataset_tags", "load_step_inputs", "make_model_pipeline", "run_step", "step_key"],
)
def test_workflow_reexports_the_steps_objects(name):
    assert name in workflow.__all__
    assert getattr(workflow, name) is getattr(steps, name)
    assert getattr(steps, name).__module__.startswith("mlflow_steward.steps.")
