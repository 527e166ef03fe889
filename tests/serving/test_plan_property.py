"""Property test: random fitted cleaning configurations x random request batches, plan == pipeline.

A seeded generator draws every ``CleaningConfig`` option (imputation strategies, outlier rule and
bounds, scaling, ratios, cluster similarity, smoothing with a time column, markers), an estimator
(linear, tree, boosted trees, classifiers) and batches of 1 to 300 rows of housing or adult with
missing values, unseen categories, markers and extreme numbers. The batch goes through the model's
own request check first (``validate_frame``), as in serving. Regressions must agree to 1e-9 of the
output's scale, classifiers to identical classes and probabilities; a batch without extreme values
must not need the pipeline (no fallback).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline
from mlflow_steward.serving import FeatureSchema, validate_frame
from mlflow_steward.serving._plan import compile_plan

N_CONFIGS = 30
UNSEEN = np.array(["MARS", " NEAR BAY", "", "near bay", "?x", " ?", "?", "n/a", None, np.nan], dtype=object)
EXTREMES = np.array([1e300, -1e300, 1e-300, -0.0, 1e15, -1e15])


@pytest.fixture(scope="module")
def datasets(housing_path, adult_path):
    housing = pd.read_csv(housing_path).sample(3000, random_state=0).reset_index(drop=True)
    adult = pd.read_csv(adult_path).sample(3000, random_state=0).reset_index(drop=True)
    return {"housing": (housing, "median_house_value", "regression"), "adult": (adult, "salary", "classification")}


def _config(rng: np.random.Generator, numeric: list[str], with_time: bool) -> CleaningConfig:
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    ratios = []
    for i in range(rng.integers(0, 4)):
        num, den = rng.choice(numeric, 2, replace=False)
        ratios.append((f"ratio_{i}", str(num), str(den)))
    cluster = None
    if rng.random() < 0.5:
        columns = [str(c) for c in rng.choice(numeric, rng.integers(1, min(4, len(numeric) + 1)), replace=False)]
        cluster = {"columns": columns, "n_clusters": int(rng.integers(1, 8)),
                   "gamma": float(10 ** rng.uniform(-4, 1)), "random_state": int(rng.integers(100))}  # fmt: skip
    smoothing = None
    if with_time:
        columns = [str(c) for c in rng.choice(numeric, rng.integers(1, min(3, len(numeric) + 1)), replace=False)]
        smoothing = pick([{"method": "moving_average", "columns": columns, "window": int(rng.integers(1, 6))},
                          {"method": "exponential", "columns": columns, "alpha": float(rng.uniform(0.05, 1))}])  # fmt: skip
    low = float(rng.uniform(0, 0.2))
    return CleaningConfig(
        numeric_imputation=pick(["median", "mean", "most_frequent", "constant"]),
        categorical_imputation=pick(["most_frequent", "constant"]),
        outliers=pick(["iqr", "quantile", None]),
        outlier_factor=float(rng.uniform(0, 3)),
        outlier_quantiles=(low, float(rng.uniform(low + 0.01, 1))),
        scaling=pick(["standard", "minmax", None]),
        ratios=tuple(ratios),
        cluster_similarity=cluster,
        smoothing=smoothing,
        missing_markers=tuple(rng.choice(["?", "n/a", ""], rng.integers(0, 3), replace=False).tolist()),
    )


def _estimator(rng: np.random.Generator, task: str):
    if task == "regression":
        options = [lambda: Ridge(alpha=float(rng.uniform(0.1, 10))), lambda: DecisionTreeRegressor(max_depth=6),
                   lambda: HistGradientBoostingRegressor(max_iter=20, random_state=0)]  # fmt: skip
    else:
        options = [lambda: LogisticRegression(max_iter=300), lambda: DecisionTreeClassifier(max_depth=6),
                   lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0)]  # fmt: skip
    return options[rng.integers(len(options))]()


def _batch(rng: np.random.Generator, X: pd.DataFrame, *, extreme: bool) -> pd.DataFrame:
    size = int(rng.choice([1, 1, 2, int(rng.integers(3, 40)), 300]))
    return _perturb(rng, X.iloc[rng.integers(0, len(X), size)].reset_index(drop=True), extreme=extreme)


def _perturb(rng: np.random.Generator, rows: pd.DataFrame, *, extreme: bool) -> pd.DataFrame:
    rows, size = rows.copy(), len(rows)
    rate = rng.uniform(0, 0.4)
    for column in rows.columns:
        hit = rng.random(size) < rate
        if column == "t":
            times = rows[column].copy()
            times[hit] = pd.NaT
            rows[column] = times
        elif pd.api.types.is_numeric_dtype(rows[column].dtype):
            values = rows[column].to_numpy(dtype=float, copy=True)
            values[hit] = EXTREMES[rng.integers(0, len(EXTREMES), hit.sum())] if extreme else np.nan
            rows[column] = values
        else:
            values = rows[column].astype(object).to_numpy(copy=True)
            values[hit] = UNSEEN[rng.integers(0, len(UNSEEN), hit.sum())]
            rows[column] = values
    return rows


@pytest.mark.parametrize("seed", range(N_CONFIGS))
def test_random_configurations_and_inputs(datasets, seed):
    rng = np.random.default_rng(1000 + seed)
    name = "housing" if seed % 2 == 0 else "adult"
    frame, target, task = datasets[name]
    X, y = frame.drop(columns=[target]), frame[target]
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c].dtype)]
    categorical = [c for c in X.columns if c not in numeric]
    with_time = rng.random() < 0.3
    if with_time:
        X = X.assign(t=pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 400, len(X)), unit="h"))
    train = rng.choice(len(X), 500, replace=False)
    X_train, y_train = X.iloc[train].reset_index(drop=True), y.iloc[train].reset_index(drop=True)
    X_train = _perturb(rng, X_train, extreme=False) if rng.random() < 0.5 else X_train
    config = _config(rng, numeric, with_time)
    cleaning = build_cleaning_pipeline(numeric, categorical, config, time_column="t" if with_time else None)
    model = build_model_pipeline(cleaning, _estimator(rng, task)).fit(X_train, y_train)
    schema = FeatureSchema.from_frame(X_train)
    plan = compile_plan(model, schema.columns)
    for i in range(6):
        extreme = i >= 4
        batch = validate_frame(_batch(rng, X, extreme=extreme), schema)
        fallbacks = plan.fallbacks
        try:
            expected = model.predict(batch)
        except ValueError as refused:  # e.g. a tree refusing 1e300 (float32): the plan refuses it alike
            with pytest.raises(ValueError) as info:
                plan.predict(batch)
            assert str(info.value) == str(refused) and extreme
            continue
        got = plan.predict(batch)
        if task == "regression":
            scale = max(1.0, float(np.nanmax(np.abs(expected))))
            assert np.array_equal(np.isnan(got), np.isnan(expected)), config
            assert np.nanmax(np.abs(got - expected)) <= 1e-9 * scale, config
        else:
            np.testing.assert_array_equal(got, expected, err_msg=str(config))
            np.testing.assert_array_equal(plan.predict_proba(batch), model.predict_proba(batch), err_msg=str(config))
        if not extreme:
            assert plan.fallbacks == fallbacks, config
