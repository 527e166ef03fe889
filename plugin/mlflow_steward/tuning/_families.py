"""Model families: an estimator builder, an Optuna search space and a small exhaustive grid each.

A search space is a plain function of a trial (``space(trial) -> params``) written with natural
parameter names (``trial.suggest_int("max_depth", ...)``). The objective hands it a
:class:`_FamilyTrial` that prefixes every name with the family (``random_forest.max_depth``) in the
Optuna study, so families never share a distribution; child runs and results use the natural
names again.

Spaces are sized for two cores (timings on the full housing training set, 16.5k rows, 3-fold CV, in
the tuning module's notes): random forests stay at 20..150 trees of depth <= 20, and ``svr`` is
O(n^2) in the training rows (~25 s per 3-fold trial on housing), so it is not a default family.
Estimators that take a ``random_state`` get the one passed to :func:`tune`, so a trial is
reproducible.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, closest

REGRESSION = "regression"
CLASSIFICATION = "classification"
TASKS = (REGRESSION, CLASSIFICATION)
PARAM_SEPARATOR = "."  # Optuna parameter name: "<family>.<param>"
FAMILY_PARAM = names.PARAM_FAMILY  # the categorical Optuna parameter choosing the family

MSG_UNKNOWN_TASK = "task must be 'regression' or 'classification', got {task!r}"
MSG_UNKNOWN_FAMILY = "families: unknown model family {name!r} for task {task!r}; valid families: {valid}"
MSG_FAMILY_WRONG_TASK = (
    "families: model family {name!r} is for {other} only, not {task}; valid families for {task}: {valid}"
)
MSG_NO_FAMILIES = "families: give at least one model family; valid families for {task}: {valid}"
MSG_DUPLICATE_FAMILY = "families: model family {name!r} is listed more than once"
MSG_BAD_FAMILY_NAME = "families: a family name must be a non-empty string without {sep!r}, got {name!r}"


@dataclass(frozen=True)
class Family:
    """One model family of one task.

    ``build(params, random_state)`` returns an unfitted estimator; ``space(trial)`` suggests the
    params for Optuna; ``grid`` maps each param to the values the grid strategy tries (every
    combination). ``default`` families run when :func:`tune` gets ``families=None``.
    """

    name: str
    task: str
    build: Callable[[Mapping[str, Any], int | None], Any] = field(repr=False)
    space: Callable[[Any], dict[str, Any]] = field(repr=False)
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    default: bool = True
    description: str = ""

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid, params in sorted order (the grid strategy's trials)."""
        names = sorted(self.grid)
        return [dict(zip(names, values)) for values in itertools.product(*(self.grid[n] for n in names))]

    def estimator(self, params: Mapping[str, Any], random_state: int | None = None) -> Any:
        """An unfitted estimator with ``params``."""
        return self.build(dict(params), random_state)


class _FamilyTrial:
    """A view of an Optuna trial that namespaces parameter names with the family."""

    def __init__(self, trial: Any, family: str) -> None:
        self._trial = trial
        self._prefix = f"{family}{PARAM_SEPARATOR}"

    def suggest_float(self, name: str, low: float, high: float, **kwargs: Any) -> float:
        return self._trial.suggest_float(self._prefix + name, low, high, **kwargs)

    def suggest_int(self, name: str, low: int, high: int, **kwargs: Any) -> int:
        return self._trial.suggest_int(self._prefix + name, low, high, **kwargs)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._trial.suggest_categorical(self._prefix + name, choices)


def suggest_params(trial: Any, family: Family, *, grid: bool) -> dict[str, Any]:
    """Suggest ``family``'s params on ``trial``: its Optuna space, or its grid as categoricals."""
    view = _FamilyTrial(trial, family.name)
    if grid:
        return {name: view.suggest_categorical(name, list(values)) for name, values in sorted(family.grid.items())}
    return family.space(view)


def optuna_params(family: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Natural params -> the study's parameter names (with the ``family`` choice)."""
    return {FAMILY_PARAM: family, **{f"{family}{PARAM_SEPARATOR}{k}": v for k, v in params.items()}}


def split_params(trial_params: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The study's parameter names -> ``(family, natural params)``."""
    family = trial_params.get(FAMILY_PARAM)
    prefix = f"{family}{PARAM_SEPARATOR}"
    params = {k[len(prefix) :]: v for k, v in trial_params.items() if k.startswith(prefix)}
    return family, params


# --- the families ---------------------------------------------------------------------------------


def _ridge_space(trial: Any) -> dict[str, Any]:
    return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}


def _logistic_space(trial: Any) -> dict[str, Any]:
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


def _forest_space(trial: Any) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 20, 150, step=10),
        "max_depth": trial.suggest_int("max_depth", 4, 20),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        "max_features": trial.suggest_float("max_features", 0.3, 1.0),
    }


def _hgb_space(trial: Any) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 400, step=50),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 64, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 100, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
    }


def _knn_space(trial: Any) -> dict[str, Any]:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 3, 50, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
    }


def _svr_space(trial: Any) -> dict[str, Any]:
    return {
        "C": trial.suggest_float("C", 0.1, 100.0, log=True),
        "epsilon": trial.suggest_float("epsilon", 0.01, 1.0, log=True),
    }


def _ridge(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(**params)


def _logistic(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, **params)


def _forest_regressor(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(random_state=random_state, **params)


def _forest_classifier(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=random_state, **params)


def _hgb_regressor(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(random_state=random_state, **params)


def _hgb_classifier(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=random_state, **params)


def _knn_regressor(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor(**params)


def _knn_classifier(params: Mapping[str, Any], random_state: int | None) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(**params)


def _svr(params: Mapping[str, Any], random_state: int | None) -> Any:
    # SVR's epsilon and C live on the target's scale: standardise the target around it.
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    return TransformedTargetRegressor(regressor=SVR(**params), transformer=StandardScaler())


_FOREST_GRID = {"n_estimators": (100,), "max_depth": (8, 16), "min_samples_leaf": (1, 5), "max_features": (0.5,)}
_HGB_GRID = {"learning_rate": (0.05, 0.1), "max_iter": (200,), "max_leaf_nodes": (15, 31)}
_KNN_GRID = {"n_neighbors": (5, 15, 30), "weights": ("uniform", "distance")}

_REGRESSION_FAMILIES = (
    Family("ridge", REGRESSION, _ridge, _ridge_space, {"alpha": (0.1, 1.0, 10.0, 100.0)},
           description="Ridge: linear least squares with an L2 penalty"),
    Family("random_forest", REGRESSION, _forest_regressor, _forest_space, _FOREST_GRID,
           description="RandomForestRegressor, 20..150 trees"),
    Family("hist_gradient_boosting", REGRESSION, _hgb_regressor, _hgb_space, _HGB_GRID,
           description="HistGradientBoostingRegressor (early stopping on > 10k rows)"),
    Family("knn", REGRESSION, _knn_regressor, _knn_space, _KNN_GRID,
           description="KNeighborsRegressor, 3..50 neighbours"),
    Family("svr", REGRESSION, _svr, _svr_space, {"C": (1.0, 10.0), "epsilon": (0.1,)}, default=False,
           description="SVR (RBF) on a standardised target; O(n^2) in rows, not a default family"),
)
_CLASSIFICATION_FAMILIES = (
    Family("logistic_regression", CLASSIFICATION, _logistic, _logistic_space, {"C": (0.01, 0.1, 1.0, 10.0)},
           description="LogisticRegression (lbfgs, L2)"),
    Family("random_forest", CLASSIFICATION, _forest_classifier, _forest_space, _FOREST_GRID,
           description="RandomForestClassifier, 20..150 trees"),
    Family("hist_gradient_boosting", CLASSIFICATION, _hgb_classifier, _hgb_space, _HGB_GRID,
           description="HistGradientBoostingClassifier (early stopping on > 10k rows)"),
    Family("knn", CLASSIFICATION, _knn_classifier, _knn_space, _KNN_GRID,
           description="KNeighborsClassifier, 3..50 neighbours"),
)

#: task -> {family name -> Family}, in the order they are listed.
FAMILIES: Mapping[str, Mapping[str, Family]] = {
    REGRESSION: {f.name: f for f in _REGRESSION_FAMILIES},
    CLASSIFICATION: {f.name: f for f in _CLASSIFICATION_FAMILIES},
}


def check_task(task: object) -> str:
    if task not in TASKS:
        raise StewardInputError(MSG_UNKNOWN_TASK.format(task=task))
    return task  # type: ignore[return-value]


def default_families(task: str) -> tuple[str, ...]:
    """The families :func:`tune` runs when given none (every family but ``svr``)."""
    return tuple(name for name, f in FAMILIES[check_task(task)].items() if f.default)


def get_family(task: str, name: str) -> Family:
    """The built-in family ``name`` of ``task`` (errors list the valid ones)."""
    known = FAMILIES[check_task(task)]
    if name in known:
        return known[name]
    valid = ", ".join(known)
    for other, families in FAMILIES.items():
        if other != task and name in families:
            raise StewardInputError(MSG_FAMILY_WRONG_TASK.format(name=name, other=other, task=task, valid=valid))
    match = closest(str(name), known)
    hint = f"; did you mean {match!r}?" if match else ""
    raise StewardInputError(MSG_UNKNOWN_FAMILY.format(name=name, task=task, valid=valid) + hint)


def resolve_families(task: str, families: Sequence[str | Family] | str | None) -> dict[str, Family]:
    """Names (or custom :class:`Family` objects) -> ``{name: Family}``, validated for ``task``."""
    check_task(task)
    if families is None:
        families = default_families(task)
    elif isinstance(families, (str, Family)):
        families = [families]
    valid = ", ".join(FAMILIES[task])
    resolved: dict[str, Family] = {}
    for item in families:
        family = item if isinstance(item, Family) else get_family(task, item) if isinstance(item, str) else None
        if family is None or not family.name or PARAM_SEPARATOR in family.name:
            raise StewardInputError(MSG_BAD_FAMILY_NAME.format(sep=PARAM_SEPARATOR, name=item))
        if family.task != task:
            raise StewardInputError(
                MSG_FAMILY_WRONG_TASK.format(name=family.name, other=family.task, task=task, valid=valid)
            )
        if family.name in resolved:
            raise StewardInputError(MSG_DUPLICATE_FAMILY.format(name=family.name))
        resolved[family.name] = family
    if not resolved:
        raise StewardInputError(MSG_NO_FAMILIES.format(task=task, valid=valid))
    return resolved
