"""``register_candidate``: a new model version with its steward records and the ``staging`` alias."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Mapping

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import check_name, get_client, mirror_stage, set_alias
from mlflow_steward.registry._describe import SECTION_CANDIDATE, candidate_markdown, fit_description, merge_section
from mlflow_steward.registry._format import fmt_interval
from mlflow_steward.registry._unseen import artifact_exists, run_artifact, sibling_train_uri

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-fA-F]+)/?$")
_MAX_METRIC_TAGS = 40


def metric_tags(metrics: Mapping[str, float]) -> dict[str, str]:
    """``{"rmse": 49100, "rmse_ci_low": 48200, "rmse_ci_high": 50100}`` ->
    ``{"steward.metric.rmse": "49,100 [48,200, 50,100]"}``.

    Only overall metrics are tagged (keys without ``/``; slice metrics stay on the run); a metric's
    ``_ci_low`` / ``_ci_high`` twins become its interval.
    """
    values: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise StewardInputError(msg.BAD_METRIC_VALUE.format(key=key, value=value)) from None
        values[str(key)] = float(value)
    tags: dict[str, str] = {}
    for key, value in values.items():
        if "/" in key or key.endswith((names.CI_LOW_SUFFIX, names.CI_HIGH_SUFFIX)):
            continue
        if len(tags) >= _MAX_METRIC_TAGS:
            break
        low, high = values.get(names.ci_low(key)), values.get(names.ci_high(key))
        if low is not None and not math.isfinite(low):
            low = None
        if high is not None and not math.isfinite(high):
            high = None
        tags[names.metric_tag(key)] = fmt_interval(value, low, high)
    return tags


def register_candidate(
    name: str,
    model_uri: str,
    *,
    run_id: str | None,
    spec_json: str,
    test_data_uri: str,
    dataset_digest: str,
    dataset_version: str,
    metrics: Mapping[str, float],
    code_version: str,
    task: str,
    client: MlflowClient | None = None,
    train_data_uri: str | None = None,
    dataset_name: str = "",
) -> ModelVersion:
    """Register ``model_uri`` as a new version of ``name``, record where it came from, alias ``staging``.

    Tags on the version (names from :mod:`mlflow_steward.names`): the training run, dataset digest
    and version, the fixed test set's artifact URI (the gate scores on it), the dataset spec, task,
    target, code version, and one ``steward.metric.<name>`` tag per overall metric, e.g.
    ``steward.metric.rmse = "49,100 [48,200, 50,100]"``. The description gets a Markdown
    "candidate" section.

    ``train_data_uri`` records the rows the model was trained on (tag ``steward.train_data_uri``):
    the gate scores only test rows that neither it nor production was trained on. When omitted and
    the test set is a data run's ``runs:/<run>/data/test.parquet``, that run's
    ``data/train.parquet`` is recorded. The ``staging`` alias moves to the new version and the legacy stage is
    mirrored to "Staging" when the registry still supports stages (best effort, never relied on).
    The ``production`` alias is never touched here: only :func:`promote` moves it.
    """
    from mlflow.exceptions import MlflowException

    from mlflow_steward.data import DatasetSpec

    check_name(name)
    if not isinstance(model_uri, str) or not model_uri.strip():
        raise StewardInputError(msg.BAD_MODEL_URI.format(uri=model_uri))
    if task not in ("regression", "classification"):
        raise StewardInputError(msg.BAD_TASK.format(task=task))
    try:
        spec = DatasetSpec.from_json(spec_json)
    except StewardInputError as exc:
        raise StewardInputError(msg.BAD_SPEC.format(what="spec_json", error=exc)) from None
    recorded = metric_tags(metrics)
    client = get_client(client)
    train_data_uri = _checked_train_uri(client, train_data_uri, test_data_uri)
    tags = {
        names.TAG_TASK: task,
        names.TAG_TARGET: spec.target,
        names.TAG_SPEC: spec_json,
        names.TAG_TEST_DATA_URI: test_data_uri,
        names.TAG_DATASET_DIGEST: dataset_digest or "",
        names.TAG_DATASET_VERSION: dataset_version or "",
        names.TAG_DATASET_NAME: dataset_name or "",  # a named dataset (steward data): version is its number
        names.TAG_CODE_VERSION: code_version or "",
        **recorded,
    }
    if run_id:
        tags[names.TAG_TRAIN_RUN] = run_id
    if train_data_uri:
        tags[names.TAG_TRAIN_DATA_URI] = train_data_uri

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    logged = _LOGGED_MODEL_URI.match(model_uri.strip())
    tags = {k: v for k, v in tags.items() if v}
    if logged:
        mv = client.create_model_version(
            name, model_uri, run_id=run_id, tags=tags, model_id=logged.group(1) if logged else None
        )
    else:  # runs:/ and other URIs: MLflow's register_model resolves them (through the current URIs)
        import mlflow

        mv = mlflow.register_model(model_uri, name, tags=tags)
    description = merge_section(
        mv.description,
        SECTION_CANDIDATE,
        candidate_markdown(
            run_id=run_id,
            task=task,
            target=spec.target,
            dataset_version=dataset_version,
            dataset_digest=dataset_digest,
            test_data_uri=test_data_uri,
            code_version=code_version,
            metric_tags={k[len(names.TAG_METRIC_PREFIX):]: v for k, v in recorded.items()},
        ),
    )
    client.update_model_version(name, mv.version, description=fit_description(description))
    set_alias(client, name, names.ALIAS_STAGING, mv.version)
    mirror_stage(client, name, mv.version, names.STAGE_STAGING)
    return client.get_model_version(name, mv.version)


def _checked_train_uri(client: MlflowClient, given: str | None, test_data_uri: str) -> str | None:
    """``given`` (a ``runs:/`` URI must exist), else the training split beside the test set, else None."""
    if given is None or not str(given).strip():
        return sibling_train_uri(client, test_data_uri)
    given = str(given).strip()
    parts = run_artifact(given)
    if parts is not None and not artifact_exists(client, *parts):
        raise StewardInputError(msg.TRAIN_DATA_MISSING.format(uri=given, run_id=parts[0], path=parts[1]))
    return given
