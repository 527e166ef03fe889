"""``EvaluationReport``: one result object, like fairlearn's ``MetricFrame`` but with intervals.

``overall`` (metric -> Interval), ``by_slice`` (long table), ``flagged``, ``worst_rows``,
``feature_importance``; ``frame()`` gives the numbers behind every plot, ``metrics()`` the flat
MLflow metric dict, ``figures()`` the plots, ``log_to_mlflow()`` logs all of it to a run.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward.evaluation import _plots
from mlflow_steward.evaluation._config import EvaluationConfig
from mlflow_steward.evaluation._metrics import T_SUFFIX, Predictions
from mlflow_steward.evaluation._metric_frame import overall_and_slices
from mlflow_steward.exceptions import StewardInputError

NO_RUN = "log_to_mlflow: no run_id given and no active MLflow run; pass run_id= or start a run"
METRIC_BATCH = 1000  # MLflow's log_batch limit on metrics per call


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Everything one evaluation found. Build it with :func:`evaluate_model`."""

    task: str
    target: str
    n_rows: int
    metric_names: tuple[str, ...]  # computed metrics, primary first
    overall: dict[str, Any]  # metric -> stats.Interval; "rmse_t" holds the RMSE t-interval
    by_slice: pd.DataFrame  # columns: see ``_metric_frame.COLUMNS``
    worst_rows: pd.DataFrame
    feature_importance: pd.DataFrame
    config: EvaluationConfig
    predictions: Predictions
    notes: tuple[str, ...] = ()

    @property
    def primary_metric(self) -> str:
        return self.metric_names[0]

    @property
    def flagged(self) -> list[tuple[str, str, str]]:
        """``(slice_column, slice_value, metric)`` of every slice significantly worse than the rest."""
        rows = self.by_slice[self.by_slice["flagged"]]
        return list(zip(rows["slice_column"], rows["slice_value"], rows["metric"]))

    def frame(self) -> pd.DataFrame:
        """Overall rows (``slice_column == "overall"``) followed by the slice table."""
        return overall_and_slices(self.overall, self.n_rows, self.by_slice)

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics: ``rmse``, ``rmse_ci_low``, ``rmse_ci_high``, ``rmse_t_ci_low``...,
        ``slice/<column>/<value>/<metric>`` (+ ``_ci_low``/``_ci_high``; ``names.slice_metric_key``:
        MLflow rejects "=" in metric keys). Non-finite values are left out."""
        out: dict[str, float] = {}

        def put(key: str, value: Any) -> None:
            if value is not None and math.isfinite(float(value)):
                out[key] = float(value)

        for name, interval in self.overall.items():
            if not name.endswith(T_SUFFIX):  # "rmse_t" alone would repeat "rmse"
                put(name, interval.estimate)
            put(names.ci_low(name), interval.low)
            put(names.ci_high(name), interval.high)
        for row in self.by_slice.itertuples(index=False):
            key = names.slice_metric_key(row.slice_column, row.slice_value, row.metric)
            put(key, row.value)
            put(names.ci_low(key), row.ci_low)
            put(names.ci_high(key), row.ci_high)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the content of ``evaluation/slices.json``)."""
        return _clean(
            {
                "task": self.task,
                "target": self.target,
                "n_rows": self.n_rows,
                "metrics": list(self.metric_names),
                "config": self.config.to_dict(),
                "overall": {
                    name: {
                        "estimate": iv.estimate,
                        "low": iv.low,
                        "high": iv.high,
                        "confidence": iv.confidence,
                        "method": iv.method,
                    }
                    for name, iv in self.overall.items()
                },
                "slices": self.by_slice.to_dict(orient="records"),
                "flagged": [list(f) for f in self.flagged],
                "notes": list(self.notes),
            }
        )

    def summary(self) -> str:
        """A few human-readable lines: overall intervals, slice counts, flagged slices, notes."""
        lines = [f"{self.task} on {self.n_rows} rows, target {self.target!r}"]
        for name, iv in self.overall.items():
            label = f"{name} ({iv.method} {iv.confidence:.0%})"
            lines.append(f"  {label:<28} {iv.estimate:.6g}  [{iv.low:.6g}, {iv.high:.6g}]")
        slices = self.by_slice.drop_duplicates(["slice_column", "slice_value"])
        small = int((slices["status"] == "too_small").sum())
        lines.append(f"  slices: {len(slices)} ({small} too small to test)")
        flagged: dict[str, list[str]] = {}
        for column, value, metric in self.flagged:
            flagged.setdefault(f"{column}={value}", []).append(metric)
        if flagged:
            lines.append("  significantly worse than the rest: " + "; ".join(
                f"{key} ({', '.join(metrics)})" for key, metrics in flagged.items()))
        else:
            lines.append("  no slice significantly worse than the rest")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    # --- plots ------------------------------------------------------------------------------------
    def forest_figure(self, metric: str | None = None):
        """Forest plot of ``metric`` (default: the primary metric) over every slice."""
        metric = metric or self.primary_metric
        return _plots.draw_forest(_plots.forest_record(self.by_slice, self.overall.get(metric), metric))

    def figures(self) -> dict[str, Any]:
        """Artifact path -> matplotlib Figure of every plot this report has."""
        figures: dict[str, Any] = {}
        if not self.by_slice.empty:
            figures[names.ARTIFACT_PLOT_SLICE_FOREST] = self.forest_figure()
        if self.task == "regression":
            record = _plots.residual_record(self.predictions)
            figures[names.ARTIFACT_PLOT_PREDICTED_VS_ACTUAL] = _plots.draw_predicted_vs_actual(record)
            figures[names.ARTIFACT_PLOT_RESIDUALS] = _plots.draw_residuals(record)
        else:
            calibration = _plots.calibration_record(self.predictions)
            if calibration is not None:
                figures[names.ARTIFACT_PLOT_CALIBRATION] = _plots.draw_calibration(calibration)
            figures[names.ARTIFACT_PLOT_CONFUSION_MATRIX] = _plots.draw_confusion(
                _plots.confusion_record(self.predictions)
            )
        importance = _plots.importance_record(self.feature_importance)
        if importance is not None:
            figures[names.ARTIFACT_PLOT_FEATURE_IMPORTANCE] = _plots.draw_importance(importance)
        return figures

    # --- MLflow -----------------------------------------------------------------------------------
    def write_artifacts(self, directory: str | Path) -> list[str]:
        """Write every artifact under ``directory`` (paths as in the run); returns those paths."""
        root = Path(directory)
        (root / names.ARTIFACT_EVALUATION_DIR).mkdir(parents=True, exist_ok=True)
        written = [names.ARTIFACT_SLICES_CSV, names.ARTIFACT_SLICES_JSON]
        self.by_slice.to_csv(root / names.ARTIFACT_SLICES_CSV, index=False)
        (root / names.ARTIFACT_SLICES_JSON).write_text(json.dumps(self.to_dict(), indent=2))
        self.worst_rows.to_csv(root / names.ARTIFACT_WORST_ROWS_CSV, index=False)
        written.append(names.ARTIFACT_WORST_ROWS_CSV)
        if not self.feature_importance.empty:
            self.feature_importance.to_csv(root / names.ARTIFACT_FEATURE_IMPORTANCE_CSV, index=False)
            written.append(names.ARTIFACT_FEATURE_IMPORTANCE_CSV)
        if self.config.plots:
            for path, figure in self.figures().items():
                figure.savefig(root / path, dpi=100)  # standalone Figure: nothing to close
                written.append(path)
        return written

    def log_to_mlflow(
        self,
        run_id: str | None = None,
        *,
        model_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> list[str]:
        """Log metrics (``log_batch``, chunks of 1000) and artifacts to ``run_id`` (default: the
        active run). ``model_id``/``dataset_*`` link the metrics to a logged model and dataset
        (MLflow 3). Returns the artifact paths logged."""
        import mlflow
        from mlflow.entities import Metric

        if run_id is None:
            active = mlflow.active_run()
            if active is None:
                raise StewardInputError(NO_RUN)
            run_id = active.info.run_id
        client = mlflow.MlflowClient()
        timestamp = int(time.time() * 1000)
        batch = [
            Metric(key, value, timestamp, 0, model_id=model_id, dataset_name=dataset_name,
                   dataset_digest=dataset_digest, run_id=run_id)
            for key, value in self.metrics().items()
        ]
        for start in range(0, len(batch), METRIC_BATCH):
            client.log_batch(run_id, metrics=batch[start : start + METRIC_BATCH])
        with tempfile.TemporaryDirectory(prefix="steward-eval-") as tmp:
            written = self.write_artifacts(tmp)
            client.log_artifacts(run_id, str(Path(tmp) / names.ARTIFACT_EVALUATION_DIR),
                                 artifact_path=names.ARTIFACT_EVALUATION_DIR)
        return written


def _clean(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python, recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)
