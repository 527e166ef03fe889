"""Ensembles of tuned models on the full California housing data: test RMSE with intervals.

The workflow's clean and tune steps on the bundled housing data (20,640 rows; 16,512 train /
4,128 test; the book's feature engineering), default families (ridge, random_forest,
hist_gradient_boosting, knn), ``N_TRIALS`` Optuna trials in all, 3-fold CV. Then, with
``mlflow_steward.ensemble.build_and_compare``:

* each method (mean, weighted, stacking, greedy) over each family's best trial;
* mean and weighted over the tuned random forest and kNN only.

Every member's and ensemble's test RMSE comes with its 95% percentile bootstrap interval (2,000
resamples), and each ensemble's difference to its best member (best by CV) with the paired
bootstrap interval. Writes benchmarks/ensemble_housing.md and prints it.

Run: ``.venv/bin/python benchmarks/ensemble_housing.py`` (tracking store: ``$MLFLOW_TRACKING_URI``,
else a SQLite file under a new temporary directory, printed as ``BENCH_ROOT``; with ``BENCH_ROOT``
and ``TUNE_RUN_ID`` set, only the ensembles are built again, on that finished tuning).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

N_TRIALS = int(os.environ.get("N_TRIALS", "16"))
CV = 3
OUT = Path(__file__).with_name("ensemble_housing.md")


def main() -> None:
    import mlflow
    import pandas as pd

    from mlflow_steward import names
    from mlflow_steward.ensemble import build_and_compare
    from mlflow_steward.workflow import PipelineConfig, clean_step, tune_step

    root = Path(os.environ.get("BENCH_ROOT") or tempfile.mkdtemp(prefix="steward-ensemble-bench-"))
    os.chdir(root)
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment("ensemble-housing")
    started = time.perf_counter()
    if os.environ.get("TUNE_RUN_ID"):  # ensembles only, on a finished tuning in BENCH_ROOT's store
        tune_run_id = os.environ["TUNE_RUN_ID"]
        info = mlflow.get_run(tune_run_id).info
        tune_s = (info.end_time - info.start_time) / 1000
    else:
        config = PipelineConfig(n_trials=N_TRIALS, cv=CV, storage=f"sqlite:///{root / 'optuna.db'}")
        data = clean_step(config)
        t0 = time.perf_counter()
        tune_run_id = tune_step(config, data.run_id).run_id
        tune_s = time.perf_counter() - t0
        print(f"BENCH_ROOT={root} TUNE_RUN_ID={tune_run_id}")
    document = json.loads(
        Path(mlflow.artifacts.download_artifacts(run_id=tune_run_id, artifact_path=names.ARTIFACT_BEST_PARAMS)).read_text()
    )
    families = document["families"]

    builds = [(f"{m}, each family's best", {"method": m, "per_family": True}) for m in ("mean", "weighted", "stacking", "greedy")]
    if "random_forest" in families and "knn" in families:
        pair = [families["random_forest"]["run_id"], families["knn"]["run_id"]]
        builds += [(f"{m}, random_forest + knn", {"method": m, "runs": pair}) for m in ("mean", "weighted")]
    results = []
    for label, kwargs in builds:
        t0 = time.perf_counter()
        outcome = build_and_compare(tune_run_id, **kwargs)
        frame = pd.read_csv(
            mlflow.artifacts.download_artifacts(run_id=outcome.run_id, artifact_path=names.ARTIFACT_ENSEMBLE_COMPARISON)
        )
        results.append((label, outcome, frame, time.perf_counter() - t0))

    lines = [
        "# Ensembles on the full California housing data",
        "",
        f"{_dt.date.today().isoformat()}, {platform.machine()} with {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; `benchmarks/ensemble_housing.py`. Clean + tune (workflow steps, default "
        f"families, {N_TRIALS} Optuna trials in all, {CV}-fold CV: {tune_s:.0f} s), then "
        "`mlflow_steward.ensemble.build_and_compare`. Test set: 4,128 rows. Intervals: 95% percentile "
        "bootstrap (2,000 resamples); differences: paired bootstrap on the same resamples. CV RMSE: "
        "pooled out-of-fold RMSE over the tuning's folds (the ensemble's combiner cross-fitted over those "
        "folds). The best member is chosen by CV, before the test set is looked at.",
        "",
        "## Members (each family's best trial)",
        "",
        "| member | trial | CV RMSE | test RMSE [95% CI] |",
        "| --- | --- | ---: | --- |",
    ]
    _, first, frame, _ = results[0]
    for row in frame[frame.kind == "member"].itertuples():
        trial = families[row.family]["trial_number"]
        best = " (best by CV)" if row.best_member else ""
        lines.append(
            f"| {row.model}{best} | {trial} | {row.cv_rmse:,.0f} | {row.test_rmse:,.0f} "
            f"[{row.test_rmse_ci_low:,.0f}, {row.test_rmse_ci_high:,.0f}] |"
        )
    lines += [
        "",
        "## Ensembles",
        "",
        "| ensemble | weights | CV RMSE | test RMSE [95% CI] | minus best member [95% CI] | beats best member | build |",
        "| --- | --- | ---: | --- | --- | :---: | ---: |",
    ]
    for label, outcome, frame, seconds in results:
        ens = frame[frame.kind == "ensemble"].iloc[0]
        weights = ", ".join(f"{k} {v:.2f}" for k, v in outcome.weights.items())
        lines.append(
            f"| {label} | {weights} | {ens.cv_rmse:,.0f} | {ens.test_rmse:,.0f} "
            f"[{ens.test_rmse_ci_low:,.0f}, {ens.test_rmse_ci_high:,.0f}] | {outcome.difference:+,.0f} "
            f"[{outcome.difference_ci_low:+,.0f}, {outcome.difference_ci_high:+,.0f}] vs {outcome.best_member} | "
            f"{'yes' if outcome.beats_best_member else 'no'} | {seconds:.0f} s |"
        )
    lines += [
        "",
        "Weights: the convex weights (mean, weighted, greedy) or the stacking meta-learner's (RidgeCV) "
        "coefficients. Greedy: Caruana's selection with replacement, 50 steps, best prefix kept.",
        f"Total wall time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    text = "\n".join(lines)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
