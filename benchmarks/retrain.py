"""Retrain benchmark: ``steward retrain`` on the 20,640-row housing dataset vs the quickstart's main job.

Both run in one invocation, on the same machine, each in a fresh process and a fresh SQLite store
(``<tmp>/<side>/mlflow.db``), on the bundled housing data (20,640 rows), with the same search: 24
Optuna trials of the default regression families, 3 folds, the demo cleaning (ratio features,
cluster similarity):

* **main job**: ``steward run`` with no options, what the quickstart's ``mlflow run .`` runs
  (clean, tune, train, a greedy ensemble of the tuned families, gate, promote);
* **retrain**, as cron runs it: two thirds of the rows as dataset version 1 and a first retrain
  (setup: production exists), then the last third arrives (``steward data add``, with its checks,
  timed apart) and the timed ``steward retrain housing --cleaning-config <demo>`` on all 20,640
  rows (data step from the dataset version, tune warm-started from production, train, register,
  gate against production with the paired bootstrap, promote, cycle report). ``--ensemble`` adds
  the greedy ensemble to the retrain too.

The ratio is retrain wall time / main job wall time (target <= 1.5). With ``--rounds N`` the two
alternate N times and the medians are compared (the machine is shared: alternating spreads the
load over both). The table is printed and appended to ``benchmarks/RESULTS.md`` with machine and date.

Run: ``.venv/bin/python benchmarks/retrain.py [--rounds 1] [--ensemble]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
STEWARD = str(Path(sys.executable).parent / "steward")
TARGET_RATIO = 1.5


TUNES: list[str] = []  # what each tune did
LOADS: list[str] = []  # "<job>: <1-min load at its start> -> <at its end>", printed with the table


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def tune_summary(workdir: Path) -> str:
    """The newest tune run in ``workdir``'s store: trials finished/pruned and its seconds (read from SQLite,
    so a too-fast run can be told apart from one that did less)."""
    import sqlite3

    with sqlite3.connect(workdir / "mlflow.db") as conn:
        row = conn.execute("SELECT run_uuid, (end_time - start_time) / 1000.0 FROM runs WHERE name = 'tune' "
                           "ORDER BY start_time DESC LIMIT 1").fetchone()
        if row is None:
            return "no tune run"
        metrics = dict(conn.execute("SELECT key, value FROM latest_metrics WHERE run_uuid = ? AND key LIKE "
                                    "'n_trials_%'", (row[0],)).fetchall())
    return (f"{metrics.get('n_trials_finished', 0):.0f} trials finished, {metrics.get('n_trials_pruned', 0):.0f} "
            f"pruned, tune {row[1]:.0f} s")


def _run(command: list[str], workdir: Path) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
           "MLFLOW_REGISTRY_URI": f"sqlite:///{workdir / 'mlflow.db'}"}
    load = _load()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    LOADS.append(f"`{' '.join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command[:3]))}`: "
                 f"{load:.1f} -> {_load():.1f}")
    if done.returncode not in (0, 1):  # 1: the gate said no (not a failure of the job)
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds


def main_job(root: Path) -> float:
    """The quickstart's main job: ``steward run`` with no options (the bundled housing data)."""
    workdir = root / f"main-{time.time_ns()}"
    workdir.mkdir()
    seconds = _run([STEWARD, "run"], workdir)
    TUNES.append(f"main job: {tune_summary(workdir)}")
    return seconds


def retrain(root: Path, data: Path, ensemble: bool) -> tuple[float, float, float]:
    """The retrain as cron runs it: a production model exists (trained on the first two thirds of
    the rows, untimed), the last third arrives (timed: ``steward data add``, with its checks), then
    the timed ``steward retrain`` on all 20,640 rows: warm start, gate against production."""
    import numpy as np
    import pandas as pd

    workdir = root / f"retrain-{time.time_ns()}"
    workdir.mkdir()
    frame = pd.read_csv(data)
    order = np.random.default_rng(0).permutation(len(frame))
    cut = len(frame) * 2 // 3
    frame.iloc[np.sort(order[:cut])].to_csv(workdir / "first.csv", index=False)
    frame.iloc[np.sort(order[cut:])].to_csv(workdir / "last.csv", index=False)
    extra = ["--ensemble-method", "greedy"] if ensemble else []
    command = [STEWARD, "retrain", "housing", "--model-name", "steward-housing", "--cleaning-config",
               str(root / "demo_cleaning.json"), *extra]
    _run([STEWARD, "data", "add", "housing", "first.csv", "--target", "median_house_value", "--task", "regression"],
         workdir)
    first = _run(command, workdir)
    TUNES.append(f"first retrain: {tune_summary(workdir)}")
    ingest = _run([STEWARD, "data", "add", "housing", "last.csv"], workdir)
    seconds = _run(command, workdir)
    TUNES.append(f"retrain: {tune_summary(workdir)}")
    return first, ingest, seconds


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; load average "
            f"{load:.1f} at the start (the cores are shared with other work: absolute times are inflated, the "
            "ratio less so)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ensemble", action="store_true", help="the retrain rebuilds the greedy ensemble too")
    args = parser.parse_args()
    from mlflow_steward.workflow._demo import demo_cleaning_config

    from mlflow_steward.data import demo_dataset_path

    data = demo_dataset_path()  # what the main job trains on
    started = time.perf_counter()
    header = machine()
    mains, retrains, ingests, firsts = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="steward-bench-retrain-") as tmp:
        root = Path(tmp)
        (root / "demo_cleaning.json").write_text(json.dumps(demo_cleaning_config().to_dict()))
        for round_ in range(args.rounds):
            order = ("main", "retrain") if round_ % 2 == 0 else ("retrain", "main")
            for side in order:
                if side == "main":
                    mains.append(main_job(root))
                    print(f"round {round_ + 1}: main job {mains[-1]:.0f} s", flush=True)
                else:
                    first, ingest, seconds = retrain(root, data, args.ensemble)
                    firsts.append(first)
                    ingests.append(ingest)
                    retrains.append(seconds)
                    print(f"round {round_ + 1}: first retrain {first:.0f} s (13,760 rows), ingest {ingest:.0f} s, "
                          f"retrain {seconds:.0f} s", flush=True)
    main_s, retrain_s, ingest_s, first_s = (statistics.median(x) for x in (mains, retrains, ingests, firsts))
    ratio = retrain_s / main_s
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    ensemble = "with" if args.ensemble else "without"
    table = "\n".join([
        f"## Retrain vs the main job — {datetime.now(timezone.utc).date().isoformat()}",
        "",
        f"Machine: {header}. Data: {data.name}, 20,640 rows; 24 Optuna trials of the default regression families, "
        f"3 folds, the demo cleaning; fresh process and SQLite store per run; median of {args.rounds} "
        f"round(s), alternating.",
        "",
        "| job | wall s | ratio to the main job |",
        "|---|---:|---:|",
        f"| main job (`steward run`: clean, tune, train, greedy ensemble, gate, promote) | {main_s:.0f} | 1.00x |",
        f"| **retrain** of the 20,640 rows (`steward retrain`, {ensemble} the ensemble: data step, tune warm-started "
        f"from production, train, register, gate against production, promote, report) | {retrain_s:.0f} | "
        f"**{ratio:.2f}x** (target <= {TARGET_RATIO}x: {verdict}) |",
        f"| ingest of the last 6,880 rows before it (`steward data add`, with its checks) | {ingest_s:.0f} | "
        f"{ingest_s / main_s:.2f}x |",
        f"| (setup, untimed in the ratio: the first retrain, on 13,760 rows, no production yet) | {first_s:.0f} | "
        f"{first_s / main_s:.2f}x |",
        "",
        "Load average (1 min) at the start and end of each timed command, in order: " + "; ".join(LOADS) + ".",
        "",
        "Tuning inside each job: " + "; ".join(TUNES) + ".",
        "",
        f"Benchmark time: {time.perf_counter() - started:.0f} s. Run: `.venv/bin/python benchmarks/retrain.py"
        f"{' --ensemble' if args.ensemble else ''}{f' --rounds {args.rounds}' if args.rounds != 1 else ''}`.",
        "",
    ])
    print(table)
    with RESULTS.open("a") as out:
        out.write("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
