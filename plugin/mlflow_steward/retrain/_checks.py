"""The ingest checks: is a new labelled batch like the data the dataset already holds?

* ``label_distribution``, ``feature_distribution``, ``outliers``: monitoring's drift checks
  (:func:`mlflow_steward.monitoring.check_drift`) of the batch against a reference profile of the
  current version: the target's distribution; every feature's missing share, mean, spread,
  categories and distribution; the share of values outside the current version's range. They
  alarm only on changes both significant after Holm correction across every column and check and
  larger than the minimum effects (:class:`~mlflow_steward.retrain.IngestConfig`).
* ``label_given_features``: a batch whose labels no longer go with its features (a shuffled or
  mis-joined label column keeps the label's own distribution, so the check above cannot see it).
  A quick reference model (histogram gradient boosting) is fitted on the current version's
  training rows; its per-row losses on the batch are compared with its losses on the current
  test rows (held out from that fit): one-sided Mann-Whitney test at ``level``, and the batch's
  mean loss must exceed the reference's by ``1 + min_loss_increase`` times to fail.

The first batch of a dataset has nothing to be compared with: no checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from mlflow_steward.data import BatchPlan
    from mlflow_steward.retrain._config import IngestConfig

LABEL_DISTRIBUTION = "label_distribution"
LABEL_GIVEN_FEATURES = "label_given_features"
FEATURE_DISTRIBUTION = "feature_distribution"
OUTLIERS = "outliers"


@dataclass(frozen=True)
class IngestCheck:
    """One ingest check: passed or not, the columns it names, one line of detail, its numbers."""

    name: str
    passed: bool
    columns: tuple[str, ...]
    detail: str
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "columns": list(self.columns), "detail": self.detail,
                "scores": self.scores}


def run_checks(plan: BatchPlan, config: IngestConfig) -> tuple[IngestCheck, ...]:
    """Every ingest check of ``plan``'s batch against its current version (none for a first batch)."""
    if plan.parent_parts is None:
        return ()
    checks: list[IngestCheck] = []
    checks.extend(_drift_checks(plan, config))
    checks.append(label_given_features(plan, config))
    return tuple(checks)


# --- label given the features ---------------------------------------------------------------------
def _codes(reference: pd.DataFrame, frames: list[pd.DataFrame], columns: list[str]) -> list[np.ndarray]:
    """Numeric matrices for a tree model: text columns as the reference's category codes (unseen: NaN)."""
    out = []
    for frame in frames:
        matrix = np.empty((len(frame), len(columns)), dtype=np.float64)
        for j, column in enumerate(columns):
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
                matrix[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                categories = pd.Index(reference[column].dropna().astype(str).unique())
                codes = pd.Categorical(values.astype(str).where(values.notna()), categories=categories).codes
                matrix[:, j] = np.where(codes < 0, np.nan, codes)
        out.append(matrix)
    return out


def _losses(model: Any, X: np.ndarray, y: pd.Series, task: str, classes: np.ndarray | None) -> np.ndarray:
    if task == "regression":
        return np.abs(y.to_numpy(dtype=np.float64) - model.predict(X))
    proba = model.predict_proba(X)
    index = {c: i for i, c in enumerate(classes)}
    rows = np.array([index.get(v, -1) for v in y.astype(str)])
    p = np.where(rows >= 0, proba[np.arange(len(rows)), np.clip(rows, 0, None)], 0.0)
    return -np.log(np.clip(p, 1e-6, 1.0))


def label_given_features(plan: BatchPlan, config: IngestConfig) -> IngestCheck:
    """The reference model's losses on the batch vs on the current test rows (see the module doc)."""
    from scipy import stats
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    spec, parts = plan.spec, plan.parent_parts
    features, target = list(spec.feature_columns()), spec.target
    train = parts.data("train")
    held_out = parts.data("test")
    if len(train) > config.max_reference_rows:
        train = train.sample(config.max_reference_rows, random_state=config.random_state)
    if len(held_out) < config.min_rows or len(plan.batch) < config.min_rows or len(train) < config.min_rows:
        return IngestCheck(LABEL_GIVEN_FEATURES, True, (), f"skipped: fewer than {config.min_rows} rows to compare")
    X_train, X_ref, X_new = _codes(train, [train, held_out, plan.batch], features)
    if spec.task == "regression":
        model = HistGradientBoostingRegressor(max_iter=100, random_state=config.random_state)
        model.fit(X_train, train[target].to_numpy(dtype=np.float64))
        classes = None
    else:
        model = HistGradientBoostingClassifier(max_iter=100, random_state=config.random_state)
        model.fit(X_train, train[target].astype(str))
        classes = model.classes_
    ref = _losses(model, X_ref, held_out[target], spec.task, classes)
    new = _losses(model, X_new, plan.batch[target], spec.task, classes)
    ratio = float(new.mean() / ref.mean()) if ref.mean() > 0 else float("inf")
    p_value = float(stats.mannwhitneyu(new, ref, alternative="greater").pvalue)
    failed = p_value < config.level and ratio > 1.0 + config.min_loss_increase
    what = "absolute error" if spec.task == "regression" else "log loss"
    detail = (
        f"{target!r} given the features: a reference model's mean {what} is {ratio:.2f}x on the batch what it is "
        f"on the current test rows (p = {p_value:.2g}; fails above {1 + config.min_loss_increase:.2f}x at p < "
        f"{config.level:g})"
    )
    return IngestCheck(LABEL_GIVEN_FEATURES, not failed, (target,) if failed else (), detail,
                       {"loss_ratio": ratio, "p_value": p_value, "batch_mean_loss": float(new.mean()),
                        "reference_mean_loss": float(ref.mean())})


def drift_config(config: IngestConfig) -> Any:
    """Monitoring's DriftConfig for the ingest: the ingest's level, no progress bar, no model
    outputs, and the out-of-range minimum effect at ``max_outlier_share`` unless ``drift`` sets it."""
    from mlflow_steward.monitoring import DriftConfig

    values = {"level": config.level, "progress": False, "predictions": False, "random_state": config.random_state,
              **dict(config.drift)}
    effects = dict(values.get("min_effect") or {})
    effects.setdefault("out_of_range", config.max_outlier_share)
    values["min_effect"] = effects
    return DriftConfig.from_dict(values)


def _describe(outcome: Any) -> str:
    score = "" if outcome.score is None else f" {outcome.score:+.3g}"
    return f"{outcome.check}{score}"


def _drift_checks(plan: BatchPlan, config: IngestConfig) -> list[IngestCheck]:
    """Monitoring's drift checks of the batch against a profile of the current version (see the module doc)."""
    from mlflow_steward import monitoring

    spec = plan.spec
    features, target = list(spec.feature_columns()), spec.target
    columns = [*features, target]
    reference = plan.reference[columns]
    if len(reference) > config.max_reference_rows:
        reference = reference.sample(config.max_reference_rows, random_state=config.random_state)
    label = plan.parent.label
    profile = monitoring.build_profile(reference, source=f"dataset {label}", progress=False)
    result = monitoring.check_drift(profile, plan.batch[columns], config=drift_config(config),
                                    source=f"batch {plan.source}")
    tested = result.overall.tested
    family = f"{tested} tests, {result.config.correction} at {result.config.level:g}"
    by_column = result.by_column
    checks = []
    target_alarms = [o for o in by_column[target].checks if o.alarm] if target in by_column else []
    checks.append(IngestCheck(
        LABEL_DISTRIBUTION, not target_alarms, (target,) if target_alarms else (),
        f"{target!r} differs from {label}: " + ", ".join(map(_describe, target_alarms)) if target_alarms
        else f"{target!r} is distributed like in {label} ({family})",
        {o.check: float(o.score) for o in target_alarms if o.score is not None},
    ))
    shifted, outlying = {}, {}
    for column in features:
        drift = by_column.get(column)
        if drift is None:
            continue
        for outcome in drift.checks:
            if not outcome.alarm:
                continue
            (outlying if outcome.check == "out_of_range" else shifted).setdefault(column, []).append(outcome)
    checks.append(IngestCheck(
        FEATURE_DISTRIBUTION, not shifted, tuple(shifted),
        "features far from " + label + ": " + "; ".join(
            f"{c} ({', '.join(map(_describe, found))})" for c, found in shifted.items())
        if shifted else f"every feature is distributed like in {label} ({family})",
        {f"{c}/{o.check}": float(o.score) for c, found in shifted.items() for o in found if o.score is not None},
    ))
    limit = result.config.min_effect.out_of_range
    checks.append(IngestCheck(
        OUTLIERS, not outlying, tuple(outlying),
        f"more than {limit:.0%} of the values outside {label}'s range: " + ", ".join(
            f"{c} ({found[0].current:.1%})" if found[0].current is not None else c for c, found in outlying.items())
        if outlying else f"no column has more than {limit:.0%} of its values outside {label}'s range",
        {c: float(found[0].score) for c, found in outlying.items() if found[0].score is not None},
    ))
    return checks
