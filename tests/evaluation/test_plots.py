"""Plots: records hold the numbers, draw functions return standalone figures."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from mlflow_steward import names
from mlflow_steward.evaluation import _plots


def test_forest_record_holds_the_slice_numbers(housing_report):
    record = _plots.forest_record(housing_report.by_slice, housing_report.overall["rmse"], "rmse")
    frame = record.frame()
    island = frame[frame["slice"] == "ocean_proximity=ISLAND"]
    assert island["status"].item() == "too_small" and np.isnan(island["ci_low"].item())
    assert frame["flagged"].any()
    assert record.overall == housing_report.overall["rmse"].estimate
    figure = _plots.draw_forest(record)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "ocean_proximity=ISLAND (n=5)" in labels
    colors = {line.get_color() for line in ax.get_lines()}
    assert _plots._COLOR_FLAGGED in colors and _plots._COLOR_SMALL in colors


def test_regression_figures_and_records(housing_report, tmp_path):
    import matplotlib.pyplot as plt

    figures = housing_report.figures()
    assert set(figures) == {
        names.ARTIFACT_PLOT_SLICE_FOREST,
        names.ARTIFACT_PLOT_PREDICTED_VS_ACTUAL,
        names.ARTIFACT_PLOT_RESIDUALS,
        names.ARTIFACT_PLOT_FEATURE_IMPORTANCE,
    }
    assert all(isinstance(f, Figure) for f in figures.values())
    assert plt.get_fignums() == []
    residuals = _plots.residual_record(housing_report.predictions).frame()
    assert len(residuals) == housing_report.n_rows
    importance = _plots.importance_record(housing_report.feature_importance).frame()
    assert importance["feature"].iloc[0] == "median_income"
    written = housing_report.write_artifacts(tmp_path)
    assert all((tmp_path / path).stat().st_size > 0 for path in written)
