"""``build_and_compare``: members → out-of-fold predictions → ensemble → comparison → one MLflow run.

The run (tag ``steward.step=ensemble``, nested under the active run if any, reused when the same
members, method and settings were already built by the same code: :func:`steps.run_step`) holds:

- params: the step's (``run_step`` prefixes them ``step.``): ``method``, ``selection``, ``members``
  (names), ``tune_run_id``, ``data_run_id`` and the settings; and ``member.<name>.run_id`` /
  ``member.<name>.family`` per member;
- tags: ``steward.tune_run_id``, ``steward.data_run_id``, ``steward.ensemble_method``,
  ``steward.ensemble_members`` (JSON name → run id), ``steward.model_family=ensemble``,
  ``steward.model_uri`` and the clean run's dataset tags;
- metrics (``m`` = the tuning's scoring): ``cv_<m>`` (cross-fitted OOF), ``<m>`` with
  ``<m>_ci_low``/``_ci_high`` on the test set, ``best_member_cv_<m>``, ``best_member_<m>`` (+ CI),
  ``diff_<m>`` = ensemble − best member (+ CI) and ``diff_<m>_p_value``, ``beats_best_member``
  (0/1), and per member ``member/<name>/weight``, ``member/<name>/cv_<m>``, ``member/<name>/<m>``;
- artifacts: ``ensemble/comparison.csv``, ``ensemble/comparison.png``, ``ensemble/members.json``,
  ``ensemble/summary.json`` and the model (``log_pipeline_model``, code packages cleaning +
  ensemble), optionally registered with :func:`steps.register_run_model` (as the train step's).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any


from mlflow_steward import names
from mlflow_steward.steps import dataset_tags, register_run_model, run_step

from ._compare import Comparison, compare_members, fmt
from ._config import EnsembleConfig
from ._members import Member, TuneContext, read_tune_run, select_members

Echo = Callable[[str], None]
CODE_PACKAGES = ("cleaning", "ensemble")
ENSEMBLE_FAMILY = "ensemble"


@dataclass(frozen=True)
class EnsembleOutcome:
    """What an ensemble run produced; ``beats_best_member`` is the test verdict against the best
    member (chosen by CV score): the paired bootstrap interval of ensemble − best member lies wholly
    on the better side of zero."""

    run_id: str
    reused: bool
    model_uri: str
    method: str
    metric: str
    greater_is_better: bool
    members: dict[str, str]  # name -> trial run id
    weights: dict[str, float]
    best_member: str
    cv_score: float
    best_member_cv_score: float
    test_score: float
    test_ci_low: float
    test_ci_high: float
    best_member_test_score: float
    difference: float  # metric(ensemble) - metric(best member), test set
    difference_ci_low: float
    difference_ci_high: float
    p_value: float
    beats_best_member: bool
    model_version: str | None = None
    confidence: float = 0.95
    model: Any = field(default=None, repr=False, compare=False)  # the fitted ensemble (None when reused)

    def to_dict(self) -> dict[str, Any]:
        """Every field but ``model`` (what ``ensemble/summary.json`` holds)."""
        data = asdict(replace(self, model=None))
        data.pop("model")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, run_id: str, reused: bool, model: Any = None) -> EnsembleOutcome:
        return cls(**{**data, "run_id": run_id, "reused": reused, "model": model})

    def summary(self) -> str:
        """One line: the ensemble's test metric against the best member's, and the verdict."""
        verdict = "beats" if self.beats_best_member else "does not beat"
        return (
            f"{self.method} ensemble of {len(self.members)}: test {self.metric} {fmt(self.test_score)} "
            f"[{fmt(self.test_ci_low)}, {fmt(self.test_ci_high)}] vs best member {self.best_member} "
            f"{fmt(self.best_member_test_score)}; difference {fmt(self.difference, signed=True)} "
            f"[{fmt(self.difference_ci_low, signed=True)}, {fmt(self.difference_ci_high, signed=True)}]: {verdict} it"
        )



def build_and_compare(
    tune_run_id: str,
    *,
    method: str = EnsembleConfig.method,
    runs: Sequence[str] | None = None,
    best_n: int | None = None,
    per_family: bool | None = None,
    register: str | None = None,
    register_only_if_better: bool = False,
    data_run_id: str | None = None,
    n_iterations: int = EnsembleConfig.n_iterations,
    n_resamples: int = EnsembleConfig.n_resamples,
    confidence: float = EnsembleConfig.confidence,
    random_state: int = EnsembleConfig.random_state,
    reuse: bool = True,
    echo: Echo = print,
) -> EnsembleOutcome:
    """Build an ensemble of tuned models, compare it with its best member, log it as one run.

    Args:
        tune_run_id: the tuning parent run (``steward tune`` / ``workflow.tune_step``).
        method: ``mean``, ``weighted``, ``stacking`` or ``greedy`` (see :mod:`._estimators`).
        runs / best_n / per_family: the members, one way: trial run ids; the N best distinct
            trials of the tuning; or each family's best trial (the default when none is given).
        register: registered model name; ``None``: do not register.
        register_only_if_better: register only when the ensemble beats its best member.
        data_run_id: the clean run of the training data (default: the tune run's tag).
        n_iterations: greedy selection steps.
        n_resamples, confidence, random_state: the test-set bootstrap.
        reuse: return a finished identical ensemble run instead of building again.
    """
    EnsembleConfig(  # checked before any run is read or started
        method=method, n_iterations=n_iterations, n_resamples=n_resamples, confidence=confidence,
        random_state=random_state,
    )
    if runs is None and best_n is None and not per_family:
        per_family = True
    context = read_tune_run(tune_run_id, data_run_id=data_run_id)
    members = select_members(context, runs=runs, best_n=best_n, per_family=bool(per_family))
    selection = "runs" if runs is not None else f"best_n={best_n}" if best_n is not None else "per_family"
    params = {
        "method": method,
        "selection": selection,
        "members": ",".join(m.name for m in members),
        "n_iterations": n_iterations,
        "n_resamples": n_resamples,
        "confidence": confidence,
        "random_state": random_state,
        "register": register or "",
        "register_only_if_better": register_only_if_better,
        "tune_run_id": tune_run_id,
        "data_run_id": context.data_run_id,
    }
    inputs = {"tune_run": tune_run_id, "data_run": context.data_run_id, "members": [m.run_id for m in members]}
    settings = {
        "method": method, "n_iterations": n_iterations, "n_resamples": n_resamples, "confidence": confidence,
        "random_state": random_state, "register": register, "register_only_if_better": register_only_if_better,
    }

    built: dict[str, Any] = {}

    def body(run_id: str) -> None:
        built["model"] = _build_in_run(context, members, settings, echo)

    outcome = run_step(names.STEP_ENSEMBLE, params, inputs, body, reuse=reuse, echo=echo)
    return read_outcome(outcome.run_id, reused=outcome.reused, model=built.get("model"))


def read_outcome(run_id: str, *, reused: bool = False, model: Any = None) -> EnsembleOutcome:
    """The :class:`EnsembleOutcome` an ensemble run recorded (``ensemble/summary.json``)."""
    import mlflow

    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=names.ARTIFACT_ENSEMBLE_SUMMARY)
    return EnsembleOutcome.from_dict(json.loads(Path(local).read_text()), run_id=run_id, reused=reused, model=model)


def _estimator_class(task: str) -> Any:
    from ._estimators import EnsembleClassifier, EnsembleRegressor

    return EnsembleRegressor if task == "regression" else EnsembleClassifier


def _build_in_run(context: TuneContext, members: list[Member], settings: dict[str, Any], echo: Echo) -> Any:
    import mlflow
    from sklearn.frozen import FrozenEstimator

    from ._fit import fit_members, predict_output
    from ._oof import load_training_data, members_oof

    client = mlflow.MlflowClient()
    start = time.perf_counter()
    data = load_training_data(context)
    oof = members_oof(context, data, members)
    fitted, fit_sources = fit_members(context, data, members, client=client)
    model = _estimator_class(context.task)(
        [(name, FrozenEstimator(pipeline)) for name, pipeline in fitted.items()],
        method=settings["method"],
        n_iterations=settings["n_iterations"],
    )
    model.fit(data.X_train, data.y_train, oof_predictions=oof.predictions)
    classes = oof.classes
    ensemble_oof = model.cross_fit_predictions(oof.predictions, data.y_train, oof.folds)
    ensemble_test = model.predict(data.X_test) if classes is None else model.predict_proba(data.X_test)
    member_test = {name: predict_output(p, data.X_test, classes) for name, p in fitted.items()}
    weights = model.member_weights()
    comparison = compare_members(
        metric=context.scoring,
        greater_is_better=context.greater_is_better,
        y_train=data.y_train,
        member_oof={m.name: oof.predictions[i] for i, m in enumerate(members)},
        ensemble_oof=ensemble_oof,
        y_test=data.y_test,
        member_test=member_test,
        ensemble_test=ensemble_test,
        members={m.name: {"run_id": m.run_id, "family": m.family, "oof_source": oof.sources[m.name]} for m in members},
        weights=weights,
        confidence=settings["confidence"],
        n_resamples=settings["n_resamples"],
        random_state=settings["random_state"],
        classification=classes is not None,
    )
    _log_records(context, members, model, comparison, oof.sources, fit_sources, settings)
    packaged = _log_model(model, data)
    outcome = _outcome(context, members, comparison, weights, packaged.model_uri, settings)
    version = _maybe_register(context, data, packaged.model_uri, comparison, outcome, settings, echo)
    if version is not None:
        outcome = replace(outcome, model_version=version)
    mlflow.log_dict(outcome.to_dict(), names.ARTIFACT_ENSEMBLE_SUMMARY)
    echo(f"[ensemble] {outcome.summary()} ({time.perf_counter() - start:.0f} s)")
    return model


def _finite(value: float) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _log_records(
    context: TuneContext,
    members: list[Member],
    model: Any,
    comparison: Comparison,
    oof_sources: dict[str, str],
    fit_sources: dict[str, str],
    settings: dict[str, Any],
) -> None:
    import mlflow

    from ._plot import draw_comparison

    m = comparison.metric
    member_params = {}
    for x in members:
        prefix = f"{names.PARAM_MEMBER_PREFIX}{x.name}."
        member_params.update({f"{prefix}run_id": x.run_id, f"{prefix}family": x.family})
    mlflow.log_params(member_params)
    mlflow.set_tags(
        {
            **dataset_tags(context.data_run_id),
            names.TAG_TUNE_RUN: context.run_id,
            names.TAG_DATA_RUN: context.data_run_id,
            names.TAG_TASK: context.task,
            names.TAG_ENSEMBLE_METHOD: settings["method"],
            names.TAG_ENSEMBLE_MEMBERS: json.dumps({x.name: x.run_id for x in members}),
            names.TAG_MODEL_FAMILY: ENSEMBLE_FAMILY,
        }
    )
    ens, best = comparison.ensemble, comparison.best
    metrics = {
        f"cv_{m}": ens.cv_score,
        m: ens.test_score,
        names.ci_low(m): ens.test_low,
        names.ci_high(m): ens.test_high,
        f"best_member_cv_{m}": best.cv_score,
        f"best_member_{m}": best.test_score,
        names.ci_low(f"best_member_{m}"): best.test_low,
        names.ci_high(f"best_member_{m}"): best.test_high,
        f"diff_{m}": best.diff,
        names.ci_low(f"diff_{m}"): best.diff_low,
        names.ci_high(f"diff_{m}"): best.diff_high,
        f"diff_{m}_p_value": best.p_value,
        "beats_best_member": float(comparison.beats_best_member),
        "n_members": float(len(members)),
    }
    for row in comparison.rows:
        if row.is_ensemble:
            continue
        prefix = f"member/{names.sanitize_key_part(row.name)}"
        metrics.update({f"{prefix}/cv_{m}": row.cv_score, f"{prefix}/{m}": row.test_score,
                        f"{prefix}/{names.ci_low(m)}": row.test_low, f"{prefix}/{names.ci_high(m)}": row.test_high})
        if _finite(row.weight):
            metrics[f"{prefix}/weight"] = row.weight
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if _finite(float(v))})
    mlflow.log_text(comparison.frame().to_csv(index=False), names.ARTIFACT_ENSEMBLE_COMPARISON)
    mlflow.log_figure(draw_comparison(comparison), names.ARTIFACT_ENSEMBLE_PLOT)
    selection = model.selection_
    mlflow.log_dict(
        {
            "method": settings["method"],
            "task": context.task,
            "metric": m,
            "members": [
                {
                    "name": x.name, "run_id": x.run_id, "family": x.family, "params": dict(x.params),
                    "trial_number": x.trial_number, "trial_cv_score": x.cv_score,
                    "weight": comparison.rows[i].weight, "oof_source": oof_sources[x.name],
                    "fit": fit_sources[x.name],
                }
                for i, x in enumerate(members)
            ],
            "greedy": None if selection is None else {
                "picks": [members[i].name for i in selection.picks],
                "losses": list(selection.losses),
                "n_kept": selection.n_kept,
            },
        },
        names.ARTIFACT_ENSEMBLE_MEMBERS,
    )


def _log_model(model: Any, data: Any) -> Any:
    import mlflow

    from mlflow_steward.serving import log_pipeline_model

    packaged = log_pipeline_model(model, input_example=data.X_train.head(5), code_packages=CODE_PACKAGES)
    mlflow.set_tag(names.TAG_MODEL_URI, packaged.model_uri)
    return packaged


def _outcome(
    context: TuneContext, members: list[Member], comparison: Comparison, weights: dict[str, float],
    model_uri: str, settings: dict[str, Any],
) -> EnsembleOutcome:
    ens, best = comparison.ensemble, comparison.best
    return EnsembleOutcome(
        run_id="", reused=False, model_uri=model_uri, method=settings["method"], metric=comparison.metric,
        greater_is_better=comparison.greater_is_better, members={x.name: x.run_id for x in members},
        weights={k: float(v) for k, v in weights.items()}, best_member=best.name, cv_score=ens.cv_score,
        best_member_cv_score=best.cv_score, test_score=ens.test_score, test_ci_low=ens.test_low,
        test_ci_high=ens.test_high, best_member_test_score=best.test_score, difference=best.diff,
        difference_ci_low=best.diff_low, difference_ci_high=best.diff_high, p_value=best.p_value,
        beats_best_member=comparison.beats_best_member, confidence=comparison.confidence,
    )


def _maybe_register(
    context: TuneContext, data: Any, model_uri: str, comparison: Comparison, outcome: EnsembleOutcome,
    settings: dict[str, Any], echo: Echo,
) -> str | None:
    import mlflow

    name = settings["register"]
    if not name:
        return None
    if settings["register_only_if_better"] and not outcome.beats_best_member:
        echo(f"[ensemble] not registered as {name}: it does not beat its best member")
        return None
    m = comparison.metric
    ens = comparison.ensemble
    return register_run_model(
        name,
        run_id=mlflow.active_run().info.run_id,
        model_uri=model_uri,
        data_run_id=context.data_run_id,
        spec=data.spec,
        metrics={m: ens.test_score, names.ci_low(m): ens.test_low, names.ci_high(m): ens.test_high,
                 f"cv_{m}": ens.cv_score},
        step="ensemble",
        echo=echo,
    )
