"""The housing random forest: intervals, slices (ISLAND too small), flags, error analysis."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlflow_steward import names
from mlflow_steward.evaluation._slice_table import COLUMNS

TARGET = "median_house_value"


def test_rmse_t_interval_and_bootstrap_interval_are_both_reported(housing_report, housing_split, housing_rf):
    _, test = housing_split
    metrics = housing_report.metrics()
    for key in ("rmse", "rmse_ci_low", "rmse_ci_high", "rmse_t_ci_low", "rmse_t_ci_high"):
        assert key in metrics
    assert "rmse_t" not in metrics  # the point value is "rmse"
    residual = test[TARGET].to_numpy() - housing_rf.predict(test.drop(columns=TARGET))
    rmse = float(np.sqrt(np.mean(residual**2)))
    assert metrics["rmse"] == pytest.approx(rmse)
    # t-interval: sqrt of the 95% t-interval of the mean squared error (scipy as the reference)
    sq = residual**2
    low, high = sps.t.interval(0.95, len(sq) - 1, loc=sq.mean(), scale=sps.sem(sq))
    assert metrics["rmse_t_ci_low"] == pytest.approx(np.sqrt(low), rel=1e-6)
    assert metrics["rmse_t_ci_high"] == pytest.approx(np.sqrt(high), rel=1e-6)
    boot = housing_report.overall["rmse"]
    assert boot.method == "bca" and boot.confidence == 0.95
    assert boot.low < rmse < boot.high
    # both intervals agree roughly on 2,000 rows
    assert abs(boot.low - np.sqrt(low)) / rmse < 0.05 and abs(boot.high - np.sqrt(high)) / rmse < 0.05
    for name in ("mae", "r2", "mape"):
        interval = housing_report.overall[name]
        assert interval.low <= interval.estimate <= interval.high


def test_island_is_reported_as_too_small_not_hidden(housing_report, housing_split, housing_rf):
    _, test = housing_split
    table = housing_report.by_slice
    assert list(table.columns) == COLUMNS
    island = table[(table["slice_column"] == "ocean_proximity") & (table["slice_value"] == "ISLAND")]
    assert len(island) == 4  # one row per metric
    assert (island["size"] == 5).all() and (island["status"] == "too_small").all()
    assert island[["ci_low", "ci_high", "p_value"]].isna().all().all()
    assert not island["flagged"].any()
    rows = test[test["ocean_proximity"] == "ISLAND"]
    rmse = np.sqrt(np.mean((rows[TARGET] - housing_rf.predict(rows.drop(columns=TARGET))) ** 2))
    assert island.loc[island["metric"] == "rmse", "value"].item() == pytest.approx(rmse)
    # in the flat metrics the point value is there, the interval is not
    metrics = housing_report.metrics()
    assert "slice/ocean_proximity/ISLAND/rmse" in metrics
    assert "slice/ocean_proximity/ISLAND/rmse_ci_low" not in metrics
    assert "slice/ocean_proximity/INLAND/rmse_ci_low" in metrics


def test_flagged_slices_are_plausibly_worse(housing_report):
    table = housing_report.by_slice
    flagged = table[table["flagged"]]
    assert len(flagged) >= 1
    assert housing_report.flagged == list(zip(flagged["slice_column"], flagged["slice_value"], flagged["metric"]))
    for row in flagged.itertuples():
        # worse than the whole test set on that metric (all four metrics here are losses but r2)
        assert row.metric != "r2"
        assert row.value > housing_report.overall[row.metric].estimate
        assert row.p_adjusted < 0.05
    rmse_flags = {value for column, value, metric in housing_report.flagged if metric == "rmse"}
    # NEAR BAY holds the most expensive districts: the largest absolute errors
    assert "NEAR BAY" in rmse_flags
    # INLAND is cheaper: smaller absolute errors, but relatively worse (MAPE above overall)
    inland = table[(table["slice_value"] == "INLAND")].set_index("metric")["value"]
    assert inland["rmse"] < housing_report.overall["rmse"].estimate
    assert inland["mape"] > housing_report.overall["mape"].estimate


def test_worst_rows_and_feature_importance(housing_report):
    worst = housing_report.worst_rows
    assert len(worst) == 20
    assert {"row", "ocean_proximity", "median_income", TARGET, "prediction", "error"} <= set(worst.columns)
    errors = worst["error"].abs().to_numpy()
    assert (np.diff(errors) <= 0).all()
    importance = housing_report.feature_importance
    assert set(importance["feature"]) == {
        "longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
        "population", "households", "median_income", "ocean_proximity",
    }
    assert (np.diff(importance["importance_mean"].to_numpy()) <= 0).all()
    assert importance["feature"].iloc[0] == "median_income"
    assert (importance["metric"] == "rmse").all()


def test_frame_summary_and_json(housing_report):
    frame = housing_report.frame()
    overall = frame[frame["slice_column"] == "overall"]
    assert set(overall["metric"]) == {"rmse", "rmse_t", "mae", "r2", "mape"}
    assert len(frame) == len(overall) + len(housing_report.by_slice)
    text = json.dumps(housing_report.to_dict(), allow_nan=False)
    t_method = housing_report.overall["rmse_t"].method
    assert t_method.startswith("t")  # the t-interval (stats names it)
    assert json.loads(text)["overall"]["rmse_t"]["method"] == t_method
    summary = housing_report.summary()
    assert "rmse (bca 95%)" in summary and f"rmse_t ({t_method} 95%)" in summary
    assert "ocean_proximity=NEAR BAY (rmse" in summary


def test_metric_keys_are_valid_mlflow_names(housing_report):
    from mlflow.utils.validation import _validate_metric_name

    keys = housing_report.metrics()
    assert any(k.startswith("slice/median_income/") for k in keys)
    for key in keys:
        _validate_metric_name(key)


def test_slice_with_one_row_does_not_crash(housing_split, housing_rf):
    from mlflow_steward.evaluation import evaluate_model

    _, test = housing_split
    one = test.index[0]
    config = {
        "n_resamples": 50,
        "slice_columns": [],
        "slice_queries": {"one_row": f"index == {one}", "nothing": "median_income < 0"},
        "min_slice_size": 2,  # the smallest allowed (the gate's and the evaluation's shared SliceSpec)
        "permutation_importance": False,
        "plots": False,
    }
    report = evaluate_model(housing_rf, test.iloc[:300], target=TARGET, task="regression", config=config)
    table = report.by_slice.set_index(["slice_value", "metric"])
    assert table.loc[("one_row", "rmse"), "size"] == 1
    assert np.isfinite(table.loc[("one_row", "rmse"), "value"])
    assert table.loc[("one_row", "rmse"), "status"] == "too_small"
    assert table.loc[("nothing", "rmse"), "size"] == 0
    assert table.loc[("nothing", "rmse"), "status"] == "too_small"
    assert not report.by_slice["flagged"].any()


def test_crossed_and_query_slices_on_housing(housing_split, housing_rf):
    from mlflow_steward.evaluation import evaluate_model

    _, test = housing_split
    config = {
        "n_resamples": 100,
        "metrics": ["rmse"],
        "slice_columns": [],
        "n_bins": 2,
        "crosses": [["ocean_proximity", "median_income"]],
        "slice_queries": {"rich": "median_income > 8", "old_inland": "ocean_proximity == 'INLAND' and housing_median_age > 40"},
        "permutation_importance": False,
        "plots": False,
    }
    report = evaluate_model(housing_rf, test, target=TARGET, task="regression", config=config)
    table = report.by_slice
    crossed = table[table["slice_column"] == "ocean_proximity x median_income"]
    assert len(crossed) == 9  # 5 categories x 2 bins, minus ISLAND's empty bin
    assert crossed["size"].sum() == len(test)
    rich = table[(table["slice_column"] == "query") & (table["slice_value"] == "rich")]
    assert rich["size"].item() == int((test["median_income"] > 8).sum())
    assert "slice/query/rich/rmse" in report.metrics()
    inland_low = crossed["slice_value"].iloc[2]  # INLAND x the lower income bin
    assert inland_low.startswith("INLAND x [")
    key = f"slice/ocean_proximity x median_income/{names.metric_key_part(inland_low)}/rmse"
    assert key in report.metrics()


def test_predict_function_and_bad_inputs(housing_split, housing_rf):
    from mlflow_steward.evaluation import evaluate_model
    from mlflow_steward.exceptions import StewardInputError

    _, test = housing_split
    small = test.iloc[:200]
    quick = {"n_resamples": 50, "slice_columns": [], "permutation_importance": False, "plots": False}
    report = evaluate_model(lambda frame: housing_rf.predict(frame), small, target=TARGET, task="regressor", config=quick)
    assert report.task == "regression" and report.n_rows == 200
    with pytest.raises(StewardInputError) as err:
        evaluate_model(housing_rf, small, target="price", task="regression", config=quick)
    assert str(err.value).startswith("data has no target column 'price'; columns: longitude, latitude")
    with pytest.raises(StewardInputError) as err:
        evaluate_model(housing_rf, small, target=TARGET, task="ranking", config=quick)
    assert str(err.value) == (
        "task must be one of 'regression', 'classification' (or MLflow's 'regressor', 'classifier'), got 'ranking'"
    )
    with_nan = small.copy()
    with_nan.loc[with_nan.index[:3], TARGET] = np.nan
    with pytest.raises(StewardInputError) as err:
        evaluate_model(housing_rf, with_nan, target=TARGET, task="regression", config=quick)
    assert str(err.value) == (
        "target column 'median_house_value' has 3 missing values; drop or fill them before evaluating"
    )
    with pytest.raises(StewardInputError) as err:
        evaluate_model(lambda frame: np.zeros(3), small, target=TARGET, task="regression", config=quick)
    assert str(err.value) == "model returned 3 predictions for 200 rows"
    with pytest.raises(StewardInputError) as err:
        evaluate_model(housing_rf, pd.DataFrame(), target=TARGET, task="regression", config=quick)
    assert str(err.value) == "data has no rows"
