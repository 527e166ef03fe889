"""Registering the model a step run logged: the one place ``train``, ``ensemble`` (and ``retrain``)
turn a run's model into a registry candidate.

The version gets the records the gate and the MLflow UI need (training run, dataset digest and
version, test-set URI, spec, task, metrics, code version; :func:`registry.register_candidate`
writes them and moves ``staging``), and the run gets the version number in
``steward.model_version``, so a reused run still says which version it made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps._inputs import dataset_tags

ERR_NO_TEST_SET = (
    "cannot register the model of run {run_id} as {name!r}: its data run {data_run_id} has no "
    "tag {tag!r} (the fixed test set the gate scores on); make the data with the clean step "
    "(`steward clean` / `steward run`)"
)


def register_run_model(
    name: str,
    *,
    run_id: str,
    model_uri: str,
    data_run_id: str,
    spec: Any,
    metrics: Mapping[str, float],
    step: str = "train",
    echo: Callable[[str], None] = print,
) -> str:
    """Register ``model_uri`` (logged by run ``run_id`` on the data of ``data_run_id``) as a new
    version of ``name`` with alias ``staging``; returns the version number.

    ``metrics`` are the run's test metrics (``rmse``, ``rmse_ci_low``...; slice metrics are
    skipped by the registry). The code version is the run's own tag (the code that made the model,
    even when the run is registered later by another process). A data run without a test-set URI
    is refused before anything is written: its version could never be gated.
    """
    import mlflow

    from mlflow_steward import registry

    recorded = dataset_tags(data_run_id)
    test_data_uri = recorded.get(names.TAG_TEST_DATA_URI)
    if not test_data_uri:
        raise StewardInputError(
            ERR_NO_TEST_SET.format(run_id=run_id, name=name, data_run_id=data_run_id, tag=names.TAG_TEST_DATA_URI)
        )
    client = mlflow.MlflowClient()
    run_tags = client.get_run(run_id).data.tags
    version = registry.register_candidate(
        name,
        model_uri,
        run_id=run_id,
        spec_json=spec.to_json(),
        test_data_uri=test_data_uri,
        dataset_digest=recorded.get(names.TAG_DATASET_DIGEST, ""),
        dataset_version=recorded.get(names.TAG_DATASET_VERSION, ""),
        dataset_name=recorded.get(names.TAG_DATASET_NAME, ""),
        metrics=metrics,
        code_version=run_tags.get(names.TAG_CODE_VERSION, ""),
        task=spec.task,
    )
    client.set_tag(run_id, names.TAG_MODEL_VERSION, str(version.version))
    echo(f"[{step}] registered {name} version {version.version} (alias staging)")
    return str(version.version)
