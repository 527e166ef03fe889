"""Tuning benchmark: throughput with worker processes, and what logging each trial to MLflow costs.

1. Trial time: one 3-fold ridge trial on the full housing data (20,640 rows), with the steward demo
   pipeline (ratio features, KMeans cluster similarity, imputation, scaling) and with a bare
   scikit-learn pipeline (impute, scale, one-hot): the yardsticks of the overhead.
2. Logging overhead per trial, side by side in one run, on the same objective and the same SQLite
   (WAL) study storage: plain Optuna (no logging); ours as ``tune`` logs (:class:`TrialLogger` with
   ``background=True``: ``create_run``, one ``log_batch`` and ``set_terminated`` per trial on a writer
   thread); ours with those calls on the trial's path; and Optuna's ``MLflowCallback``
   (optuna-integration; a nested fluent run per trial, with the final value and params only).
   Overhead = (wall time of ``study.optimize`` plus waiting for queued writes - time inside the
   objective) / trials, so the objective's own noise cancels; the logging cost is that minus plain
   Optuna's. Rounds interleave the variants; medians are kept. Against an embedded SQLite tracking
   store and against ``mlflow server`` (SQLite backend, proxied artifacts) over HTTP on 127.0.0.1.
3. Throughput: ``tune`` on the full data (families ridge and knn, 3 folds, median pruning, the steward
   pipeline, no OOF) in this process, with 2 threads, and with 1 and 2 worker processes (each
   worker's BLAS/OpenMP pools at one thread; in this process they are not limited). Trials per
   minute count from the first trial's start to the last trial's end (worker start-up excluded);
   the wall time of the whole call is given too.

The tables are printed and appended to ``benchmarks/RESULTS.md`` with the machine and date.
Run: ``.venv/bin/python benchmarks/tuning.py`` (about 4-5 minutes on 2 cores; needs
``pip install optuna-integration`` for the MLflowCallback rows, which are skipped without it).
Options: ``--storage postgresql://...`` runs the throughput part on that study database.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
HOUSING = HERE.parent.parent / "shared" / "data" / "housing.csv"
TARGET = "median_house_value"
VENV_BIN = Path(sys.executable).parent
TARGET_OVERHEAD = 0.05  # of one 3-fold ridge trial on the full data (steward pipeline)


def load_housing() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(HOUSING)
    y = frame.pop(TARGET)
    frame["ocean_proximity"] = frame["ocean_proximity"].astype(object)
    return frame, y


def bare_preprocessing():
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         make_column_selector(dtype_include=np.number)),
        ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude=np.number)),
    ])


def bare_factory():
    from sklearn.pipeline import make_pipeline

    return functools.partial(make_pipeline, bare_preprocessing())


def steward_factory():
    from mlflow_steward import data
    from mlflow_steward.workflow._demo import demo_cleaning_config
    from mlflow_steward.steps import make_model_pipeline

    spec = data.DEMO_SPEC
    numeric = ("longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms", "population",
               "households", "median_income")
    return functools.partial(make_model_pipeline, numeric, tuple(spec.categorical or ("ocean_proximity",)),
                             demo_cleaning_config(), None)


def objective_for(X, y, factory, families=("ridge",)):
    from mlflow_steward.tuning._cv import fold_splits
    from mlflow_steward.tuning._families import resolve_families
    from mlflow_steward.tuning._objective import CrossValidatedObjective
    from mlflow_steward.tuning._scoring import get_scorer

    target = y.to_numpy(dtype=float)
    return CrossValidatedObjective(
        X=X, y=target, families=resolve_families("regression", list(families)), make_pipeline=factory,
        splits=fold_splits("regression", target, 3, 42), scorer=get_scorer("regression", None), classes=None,
        random_state=42,
    )


# --- 1. trial time ---------------------------------------------------------------------------------
def trial_seconds(objective, repeats: int) -> float:
    import optuna

    times = []
    for _ in range(repeats):
        trial = optuna.trial.FixedTrial({"family": "ridge", "ridge.alpha": 1.0})
        start = time.perf_counter()
        objective(trial)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- 2. logging overhead ---------------------------------------------------------------------------
class Timed:
    """The objective, adding up the time spent inside it."""

    def __init__(self, objective) -> None:
        self.objective = objective
        self.seconds = 0.0

    def __call__(self, trial) -> float:
        start = time.perf_counter()
        try:
            return self.objective(trial)
        finally:
            self.seconds += time.perf_counter() - start


def overhead_round(variant: str, objective, tracking_uri: str, experiment_id: str, workdir: Path, k: int) -> float:
    """Seconds per trial outside the objective, for ``k`` trials of ``variant``."""
    import mlflow
    import optuna
    from mlflow_steward.tuning import TrialLogger
    from mlflow_steward.tuning._study import _optuna_storage

    storage = _optuna_storage(f"sqlite:///{workdir / f'{variant}-{uuid.uuid4().hex[:8]}.db'}")  # WAL, as tune()
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.NopPruner())
    timed = Timed(objective)
    client = mlflow.MlflowClient(tracking_uri)
    parent = client.create_run(experiment_id, run_name=f"bench-{variant}").info.run_id
    run = timed
    callbacks = []
    context = contextlib.nullcontext()
    logger = None
    if variant.startswith("ours"):  # "ours": as tune() logs, the tracking calls on a writer thread
        logger = TrialLogger(client, experiment_id=experiment_id, parent_run_id=parent, study_name=study.study_name,
                             scoring="rmse", background=variant == "ours")
        run = logger.wrap(timed)
    elif variant == "MLflowCallback":
        from optuna_integration.mlflow import MLflowCallback

        callbacks = [MLflowCallback(tracking_uri=tracking_uri, metric_name="cv_rmse_mean", create_experiment=False,
                                    mlflow_kwargs={"nested": True, "experiment_id": experiment_id})]
        mlflow.set_tracking_uri(tracking_uri)
        context = mlflow.start_run(run_id=parent)
    start = time.perf_counter()
    with context:
        study.optimize(run, n_trials=k, callbacks=callbacks)
    if logger is not None:
        logger.flush()  # every run written: the last trial's writes count too
    wall = time.perf_counter() - start
    client.set_terminated(parent)
    return (wall - timed.seconds) / k


def overhead_table(objective, tracking_uri: str, workdir: Path, variants: list[str], rounds: int, k: int) -> dict:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(f"bench-{uuid.uuid4().hex[:8]}")
    per_round: dict[str, list[float]] = {v: [] for v in variants}
    overhead_round(variants[0], objective, tracking_uri, experiment_id, workdir, 2)  # warm-up (imports, tables)
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[: r % len(variants)]
        for variant in order:
            per_round[variant].append(overhead_round(variant, objective, tracking_uri, experiment_id, workdir, k))
    return {v: statistics.median(values) for v, values in per_round.items()}


@contextlib.contextmanager
def tracking_server(workdir: Path):
    port = _free_port()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        env.pop(key, None)
    log = open(workdir / "server.log", "w")
    proc = subprocess.Popen(
        [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--backend-store-uri",
         f"sqlite:///{workdir / 'server.db'}", "--artifacts-destination", str(workdir / "artifacts"),
         "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "server.log").read_text()[-2000:])
            time.sleep(0.5)
        yield url
    finally:
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- 3. throughput ---------------------------------------------------------------------------------
def throughput(X, y, factory, *, storage: str, tracking_uri: str, n_trials: int, workers, n_jobs: int) -> tuple:
    import mlflow
    import optuna
    from mlflow_steward.tuning import tune
    from mlflow_steward.tuning._study import driver_url

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("bench-throughput")
    name = f"throughput-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tune(X, y, task="regression", make_pipeline=factory, families=["ridge", "knn"], n_trials=n_trials, cv=3,
             storage=storage, study_name=name, workers=workers, n_jobs=n_jobs, oof=False, show_progress_bar=False)
    wall = time.perf_counter() - start
    trials = optuna.load_study(study_name=name, storage=driver_url(storage)).trials
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    span = (last - first).total_seconds()
    pruned = sum(t.state.name == "PRUNED" for t in trials)
    return len(trials), pruned, span, wall


def machine() -> str:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; load average at the end {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", default=None, help="study database of the throughput part (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials-per-round", type=int, default=6)
    parser.add_argument("--throughput-trials", type=int, default=30)
    parser.add_argument("--throughput-pipeline", choices=["steward", "bare"], default="steward")
    parser.add_argument("--no-write", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", message="MLflowCallback has been deprecated", category=FutureWarning)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    X, y = load_housing()
    variants = ["plain", "ours-sync", "ours"]
    try:
        import optuna_integration.mlflow  # noqa: F401

        variants = ["plain", "ours-sync", "ours", "MLflowCallback"]
        integration = f"optuna-integration {__import__('optuna_integration').__version__}"
    except ImportError:
        integration = "optuna-integration not installed: no MLflowCallback rows"
    started = time.perf_counter()
    lines: list[str] = []

    with tempfile.TemporaryDirectory(prefix="steward-bench-tuning-") as tmp:
        workdir = Path(tmp)
        steward_trial = trial_seconds(objective_for(X, y, steward_factory()), 3)
        bare_objective = objective_for(X, y, bare_factory())
        bare_trial = trial_seconds(bare_objective, 7)
        print(f"3-fold ridge trial: steward pipeline {steward_trial:.3f} s, bare pipeline {bare_trial:.3f} s",
              flush=True)

        stores = {"SQLite (embedded)": f"sqlite:///{workdir / 'mlflow.db'}"}
        results = {}
        results["SQLite (embedded)"] = overhead_table(bare_objective, stores["SQLite (embedded)"], workdir, variants,
                                                      args.rounds, args.trials_per_round)
        with tracking_server(workdir) as url:
            results["mlflow server (HTTP)"] = overhead_table(bare_objective, url, workdir, variants, args.rounds,
                                                             args.trials_per_round)
            tracking_for_throughput = url
            storage = args.storage or f"sqlite:///{workdir / 'optuna-throughput.db'}"
            factory = steward_factory() if args.throughput_pipeline == "steward" else bare_factory()
            runs = {}
            for label, workers, n_jobs in (("1 process", None, 1), ("1 process, n_jobs=2 threads", None, 2),
                                           ("1 worker", 1, 1), ("2 workers", 2, 1)):
                runs[label] = throughput(X, y, factory, storage=storage, tracking_uri=tracking_for_throughput,
                                         n_trials=args.throughput_trials, workers=workers, n_jobs=n_jobs)
                n, pruned, span, wall = runs[label]
                print(f"{label}: {n} trials ({pruned} pruned) in {span:.1f} s of trials, {wall:.1f} s wall", flush=True)

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"## Tuning: worker throughput and per-trial logging overhead ({stamp})\n")
    lines.append(f"Machine: {machine()}. Data: full housing (20,640 rows), 3-fold CV, Ridge. {integration}.\n")
    lines.append(
        f"One 3-fold ridge trial (objective only, median): **{steward_trial * 1000:.0f} ms** with the steward demo "
        f"pipeline (ratio features, KMeans cluster similarity, imputation, scaling), {bare_trial * 1000:.0f} ms with a "
        "bare scikit-learn pipeline (impute, scale, one-hot).\n"
    )
    lines.append(
        "Overhead per trial = (wall time of `study.optimize` and of waiting for queued writes - time inside the "
        f"objective) / trials, on the bare pipeline, SQLite (WAL) study storage, median of {args.rounds} interleaved "
        f"rounds of {args.trials_per_round} "
        "trials. Logging cost = that minus plain Optuna's; % of the steward-pipeline trial (target "
        f"≤ {TARGET_OVERHEAD:.0%} and below MLflowCallback) and of the bare-pipeline trial.\n"
    )
    lines.append(
        "MLflowCallback logs less (final value and params; ours adds per-fold scores, fit time, state tags) and "
        "is deprecated since Optuna 4.9; with `n_jobs > 1` it nests runs through the fluent API's active-run "
        "stack, which is per thread.\n"
    )
    lines.append("| tracking store | variant | overhead / trial ms | logging cost ms | % of steward trial | "
                 "% of bare trial | target |")
    lines.append("|---|---|---:|---:|---:|---:|---|")
    for store, table in results.items():
        for variant in variants:
            cost = table[variant] - table["plain"]
            pct = cost / steward_trial
            target = ""
            if variant == "ours":
                below = "MLflowCallback" not in table or cost < table["MLflowCallback"] - table["plain"]
                target = "met" if pct <= TARGET_OVERHEAD and below else "NOT met"
            label = {"plain": "plain Optuna (no logging)", "ours": "**ours, as `tune` logs** (writer thread)",
                     "ours-sync": "ours, calls on the trial's path",
                     "MLflowCallback": "Optuna MLflowCallback"}[variant]
            cost_cell = "—" if variant == "plain" else f"{cost * 1000:.1f}"
            pct_cell = "—" if variant == "plain" else f"{pct:.2%}"
            bare_cell = "—" if variant == "plain" else f"{cost / bare_trial:.1%}"
            lines.append(f"| {store} | {label} | {table[variant] * 1000:.1f} | {cost_cell} | {pct_cell} | "
                         f"{bare_cell} | {target} |")
    lines.append("")
    lines.append(
        f"Throughput: `tune` with families ridge and knn, 3 folds, median pruning, {args.throughput_pipeline} pipeline, "
        f"{args.throughput_trials} "
        f"trials, no OOF, tracking on the `mlflow server` above, study in "
        f"{'the given database' if args.storage else 'SQLite (WAL)'}. Trials/min from the first trial's start to "
        "the last trial's end (pruned trials are cheaper, and how many get pruned varies with the order trials "
        "finish in); wall = the whole `tune` call (worker start-up, summary and plots included).\n"
    )
    lines.append("| mode | trials (pruned) | trials/min | wall s | speed-up (trials/min) |")
    lines.append("|---|---:|---:|---:|---:|")
    base = None
    for label, (n, pruned, span, wall) in runs.items():
        rate = n / span * 60
        base = base or rate
        lines.append(f"| {label} | {n} ({pruned}) | {rate:.1f} | {wall:.1f} | {rate / base:.2f}× |")
    lines.append(f"\nBenchmark time: {time.perf_counter() - started:.0f} s. "
                 "Run: `.venv/bin/python benchmarks/tuning.py`.\n")
    text = "\n".join(lines)
    print("\n" + text)
    if not args.no_write:
        results_file = HERE / "RESULTS.md"
        previous = results_file.read_text() if results_file.exists() else ""
        results_file.write_text(previous.rstrip("\n") + "\n\n" + text if previous else text)


if __name__ == "__main__":
    main()
