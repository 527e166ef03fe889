"""Score challenger and champion on the same test set and hand the predictions to the gate logic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import get_version
from mlflow_steward.registry._config import CLASSIFICATION_METRICS, REGRESSION_METRICS, GateConfig
from mlflow_steward.registry._decision import Check, GateDecision
from mlflow_steward.registry._gate import compare, first_candidate, metric_def
from mlflow_steward.registry._scoring import LoadedModel, TestSet, compare_signatures, load_test_set, load_version
from mlflow_steward.registry._unseen import restrict_to_unseen, training_rows

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlflow_steward.data import DatasetSpec


def _check_metric_task(key: str, metric: str, task: str) -> None:
    allowed = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    if metric not in allowed:
        raise StewardInputError(
            msg.CONFIG_METRIC_TASK.format(key=key, metric=metric, task=task, expected=", ".join(allowed))
        )


def slice_masks_for(test: TestSet, config: GateConfig) -> dict[tuple[str, str], np.ndarray]:
    """The evaluation capability's slices of the test set, with the gate's slice settings."""
    from mlflow_steward.evaluation import slice_masks

    return slice_masks(
        test.frame, config.slices, categorical=test.spec.categorical, exclude=test.non_feature_columns()
    )


class _Targets:
    """The target, binarised for a binary classifier (1 = the model's last class), as stats expects."""

    def __init__(self, test: TestSet, model: LoadedModel) -> None:
        y = test.y
        self.positive = None
        if test.spec.task == "classification":
            classes = getattr(model.model, "classes_", None)
            labels = np.asarray(classes) if classes is not None else np.unique(y)
            if len(labels) == 2:
                self.positive = labels[-1]
                y = (y == self.positive).astype(int)
        self.y = y

    def labels(self, predictions: np.ndarray) -> np.ndarray:
        if self.positive is None:
            return predictions
        return (predictions == self.positive).astype(int)


def _predictions(model: LoadedModel, X, metric: str, targets: _Targets) -> np.ndarray:
    if metric_def(metric).needs_proba:
        return model.predictions(X, proba=True, metric=metric)
    return targets.labels(model.predictions(X, proba=False, metric=metric))


def evaluate_gate(
    client: MlflowClient,
    mv: ModelVersion,
    champion_version: str | None,
    *,
    data: str | Path | None,
    spec: DatasetSpec | str | None,
    config: GateConfig,
) -> GateDecision:
    """The gate's decision for ``mv`` against ``champion_version`` (None: absolute thresholds).

    Both models are scored only on the test rows neither was trained on (:mod:`._unseen`). Pure
    reading: nothing is written to MLflow here.
    """
    test = load_test_set(client, mv, data=data, spec=spec)
    task = test.spec.task
    metric = config.metric_for(task)
    _check_metric_task("metric", metric, task)
    thresholds = config.thresholds_for(task) if champion_version is None else []
    for threshold in thresholds:
        _check_metric_task(f"thresholds.{threshold.metric}", threshold.metric, task)
    name, version = mv.name, str(mv.version)
    trained = [training_rows(client, mv)]
    if champion_version is not None:
        trained.append(training_rows(client, get_version(client, name, champion_version)))
    unseen = restrict_to_unseen(
        client, name, test, trained, data_given=data is not None, min_rows=config.min_unseen_rows,
        test_data_uri=None if data is not None else mv.tags.get(names.TAG_TEST_DATA_URI),
    )
    test = unseen.test  # only rows neither model was trained on are scored
    masks = slice_masks_for(test, config)
    X = test.features()
    challenger = load_version(client, name, version)
    targets = _Targets(test, challenger)
    common = dict(
        model_name=name, version=version, champion_version=champion_version, task=task, metric=metric,
        greater_is_better=bool(metric_def(metric).greater_is_better), n_rows=len(test.frame),
        test_source=test.source, config=config,
    )
    if champion_version is None:
        predictions = {
            m: _predictions(challenger, X, m, targets) for m in {metric, *(t.metric for t in thresholds)}
        }
        rows, checks, results = first_candidate(
            targets.y, predictions, masks, metric=metric, thresholds=thresholds, config=config
        )
        return GateDecision(checks=(*checks, unseen.check), rows=tuple(rows), thresholds=tuple(results), **common)

    champion = load_version(client, name, champion_version)
    checks: list[Check] = [unseen.check]
    if config.check_signature:
        ok, detail = compare_signatures(challenger.signature_inputs, champion.signature_inputs)
        signature = Check("signature", ok, detail)
        if not ok:  # the champion may not even predict on the challenger's columns: stop here
            return GateDecision(checks=(signature,), rows=(), **common)
        checks.append(signature)
    new = _predictions(challenger, X, metric, targets)
    old = _predictions(champion, X, metric, targets)
    rows, compared = compare(targets.y, new, old, masks, metric=metric, config=config)
    return GateDecision(checks=tuple(compared + checks), rows=tuple(rows), **common)
