"""Drift checks: mlflow-steward vs Evidently's data-drift preset vs NannyML's univariate drift, side by side.

Scenarios (synthetic, seeded; planted truth = the columns whose distribution was changed):

* ``10 columns``: 100,000 reference x 1,000,000 current rows; 9 numeric columns (normal, lognormal,
  uniform, exponential, integer counts) and 1 categorical. Planted: ``n0`` mean +0.2 std, ``n1``
  spread x1.3, ``cat`` a new category at 2% of the rows.
* ``100 columns``: 100,000 x 100,000 rows of 100 numeric columns; planted: every 10th column
  (``n0``, ``n10``, ...) mean +0.2 std.

Each tool runs in its own process and virtualenv (Evidently 0.7 needs pandas < 3): it reads the
same Parquet files, then the timed part is "compare current with reference" from DataFrames
(imports are done before, for every tool; ours: build the reference profile + check the window;
the time of the check alone, with the
profile a model carries, is reported too). Peak memory is the process's peak RSS during the
comparison (the kernel's peak mark is reset once the data is loaded, so reading Parquet does not
count), and "above data" subtracts the RSS at that point (interpreter, libraries and both frames).

* ours: ``build_profile(reference)`` + ``check_drift(profile, current)``, default ``DriftConfig``
  (Holm at 1% across all checks, minimum effects); flagged = columns that alarm. A second row,
  "file in parts", reads the current Parquet file 100,000 rows at a time (``iter_table`` +
  ``profile_parts``, as ``steward drift --data`` does) instead of loading it.
* Evidently 0.7: ``Report([DataDriftPreset()])``; flagged = columns whose ``ValueDrift`` crosses
  its threshold (Wasserstein normed 0.1 / Jensen-Shannon 0.1 above 1,000 reference rows).
* NannyML 0.13: ``UnivariateDriftCalculator`` (Jensen-Shannon, 10 chunks); flagged = columns with
  an alert in any analysis chunk.

Prints a markdown table and appends it, with machine, load and date, to benchmarks/RESULTS.md.
Run: ``.venv/bin/python benchmarks/drift.py [--quick]``; peers from ``STEWARD_EVIDENTLY_PYTHON`` /
``STEWARD_NANNYML_PYTHON`` (default ``/work/venvs/{evidently,nannyml}/bin/python``; create with
``python -m venv /work/venvs/evidently && /work/venvs/evidently/bin/pip install 'evidently==0.7.*' 'pandas<3'``
and ``... nannyml && .../pip install 'nannyml==0.13.*' statsmodels``). A missing peer is skipped.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PEERS = {
    "evidently": os.environ.get("STEWARD_EVIDENTLY_PYTHON", "/work/venvs/evidently/bin/python"),
    "nannyml": os.environ.get("STEWARD_NANNYML_PYTHON", "/work/venvs/nannyml/bin/python"),
}
TIMEOUT_S = 3600


# --- data -----------------------------------------------------------------------------------------
def _numeric(rng, kind: int, size: int):
    import numpy as np

    kind %= 5
    if kind == 0:
        return rng.normal(10, 2, size)
    if kind == 1:
        return rng.lognormal(0, 0.7, size)
    if kind == 2:
        return rng.uniform(-1, 1, size)
    if kind == 3:
        return rng.exponential(3, size)
    return rng.poisson(4, size).astype(np.float64)


def make_data(n_columns: int, n_reference: int, n_current: int, seed: int, folder: Path) -> dict:
    """Write reference.parquet and current.parquet; return the column kinds and the planted truth."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    categorical = n_columns <= 10
    numeric = [f"n{i}" for i in range(n_columns - (1 if categorical else 0))]
    reference = {c: _numeric(rng, i, n_reference) for i, c in enumerate(numeric)}
    current = {c: _numeric(rng, i, n_current) for i, c in enumerate(numeric)}
    planted = []
    if categorical:
        std0, mean1 = reference["n0"].std(), current["n1"].mean()
        current["n0"] = current["n0"] + 0.2 * std0
        current["n1"] = mean1 + 1.3 * (current["n1"] - mean1)
        planted += ["n0", "n1"]
        levels = np.array(["a", "b", "c", "d", "e", "f"])
        probs = np.array([0.35, 0.25, 0.2, 0.1, 0.06, 0.04])
        reference["cat"] = rng.choice(levels, n_reference, p=probs)
        cur = rng.choice(levels, n_current, p=probs).astype(object)
        cur[rng.random(n_current) < 0.02] = "NEW"
        current["cat"] = cur
        planted.append("cat")
    else:
        for i in range(0, n_columns, 10):
            name = f"n{i}"
            current[name] = current[name] + 0.2 * reference[name].std()
            planted.append(name)
    pd.DataFrame(reference).to_parquet(folder / "reference.parquet")
    pd.DataFrame(current).to_parquet(folder / "current.parquet")
    return {"numeric": numeric, "categorical": ["cat"] if categorical else [], "planted": planted}


# --- runners (each in its own process) -----------------------------------------------------------
def _status_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM), so the peak measured is the comparison's, not reading's."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _run_ours(reference, current, spec) -> dict:
    from mlflow_steward.monitoring import DriftConfig, build_profile, check_drift

    config = DriftConfig(progress=False)
    start = time.perf_counter()
    profile = build_profile(reference, progress=False)
    middle = time.perf_counter()
    result = check_drift(profile, current, config=config)
    end = time.perf_counter()
    return {"seconds": end - start, "check_only_seconds": end - middle, "flagged": list(result.overall.features)}


def _run_evidently(reference, current, spec) -> dict:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=spec["numeric"], categorical_columns=spec["categorical"])
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        value, threshold = metric["value"], config["threshold"]
        p_value = "p_value" in config.get("method", "").lower().replace("-", "_")
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(config["column"])
    return {"seconds": time.perf_counter() - start, "flagged": flagged}


def _run_nannyml(reference, current, spec) -> dict:
    import nannyml as nml

    columns = spec["numeric"] + spec["categorical"]
    start = time.perf_counter()
    calculator = nml.UnivariateDriftCalculator(column_names=columns, chunk_number=10,
                                               continuous_methods=["jensen_shannon"],
                                               categorical_methods=["jensen_shannon"])  # fmt: skip
    calculator.fit(reference)
    frame = calculator.calculate(current).filter(period="analysis").to_df()
    flagged = [key[0] for key in frame.columns if key[-1] == "alert" and bool(frame[key].any())]
    return {"seconds": time.perf_counter() - start, "flagged": flagged}


def _run_ours_streaming(reference, current_path, spec) -> dict:
    from mlflow_steward.monitoring import DriftConfig, build_profile, check_drift, iter_table, profile_parts

    config = DriftConfig(progress=False)
    start = time.perf_counter()
    profile = build_profile(reference, progress=False)
    middle = time.perf_counter()
    window, extra = profile_parts(iter_table(current_path), profile, progress=False)
    result = check_drift(profile, window, config=config, extra_columns=extra)
    end = time.perf_counter()
    return {"seconds": end - start, "check_only_seconds": end - middle, "flagged": list(result.overall.features)}


RUNNERS = {"ours": _run_ours, "ours-streaming": _run_ours_streaming, "evidently": _run_evidently,
           "nannyml": _run_nannyml}  # fmt: skip
#: Imported before the data is read and the peak mark reset, so neither time nor memory counts imports.
IMPORTS = {
    "ours": ("scipy.stats", "mlflow_steward.monitoring"),
    "ours-streaming": ("scipy.stats", "mlflow_steward.monitoring", "pyarrow.parquet"),
    "evidently": ("evidently", "evidently.presets"),
    "nannyml": ("nannyml",),
}


def runner_main(tool: str, folder: str, spec_json: str) -> None:
    import warnings

    import pandas as pd

    import importlib

    warnings.filterwarnings("ignore")
    for module in IMPORTS[tool]:
        importlib.import_module(module)
    spec = json.loads(spec_json)
    reference = pd.read_parquet(Path(folder) / "reference.parquet")
    if tool == "ours-streaming":  # reads the current file in row batches itself: never loaded whole
        current = Path(folder) / "current.parquet"
    else:
        current = pd.read_parquet(Path(folder) / "current.parquet")
    reset = _reset_peak()
    loaded = _status_mb("VmRSS")
    out = RUNNERS[tool](reference, current, spec)
    peak = _status_mb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(peak_mb=peak, above_data_mb=peak - loaded, loaded_mb=loaded)
    print("RESULT " + json.dumps(out))


def run_tool(tool: str, python: str, folder: Path, spec: dict) -> dict | None:
    if not Path(python).exists():
        print(f"  {tool}: skipped ({python} not found)", flush=True)
        return None
    command = [python, __file__, "--runner", tool, "--folder", str(folder), "--spec", json.dumps(spec)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        print(f"  {tool}: failed ({done.returncode}): {done.stderr[-1500:]}", flush=True)
        return None
    out = json.loads(lines[-1][len("RESULT "):])
    out["process_seconds"] = time.perf_counter() - started
    print(f"  {tool}: {out['seconds']:.2f} s, peak {out['peak_mb']:.0f} MB, flagged {out['flagged']}", flush=True)
    return out


# --- report -------------------------------------------------------------------------------------
def _version(python: str, module: str) -> str:
    try:
        return subprocess.run([python, "-c", f"import {module}; print({module}.__version__)"], capture_output=True,
                              text=True, timeout=300).stdout.strip() or "?"  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "?"


def _row(scenario: str, tool: str, out: dict, ours: dict, truth: list[str]) -> str:
    flagged = set(out["flagged"])
    found = f"{len(flagged & set(truth))}/{len(truth)}"
    extra = sorted(flagged - set(truth))
    missed = sorted(set(truth) - flagged)
    speed = "1×" if tool == "ours" else f"{out['seconds'] / ours['seconds']:.1f}×"
    memory = "1×" if tool == "ours" else f"{out['peak_mb'] / ours['peak_mb']:.2f}×"
    name = {"ours": "**ours** (frames)", "ours-streaming": "**ours** (file in 100k-row parts)"}.get(tool, tool)
    seconds = f"{out['seconds']:.2f}"
    if tool.startswith("ours"):
        seconds += f" (check only {out['check_only_seconds']:.2f})"
    notes = []
    if missed:
        notes.append("missed " + ", ".join(missed))
    if extra:
        notes.append(f"{len(extra)} unplanted: " + ", ".join(extra[:6]) + (" ..." if len(extra) > 6 else ""))
    return (f"| {scenario} | {name} | {seconds} | {speed} | {out['peak_mb']:.0f} | {out['above_data_mb']:.0f} | {memory} "
            f"| {found} | {len(extra)} | {'; '.join(notes) or 'exact'} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer rows (a smoke run; not appended)")
    parser.add_argument("--runner", choices=sorted(RUNNERS))
    parser.add_argument("--folder")
    parser.add_argument("--spec")
    args = parser.parse_args()
    if args.runner:
        runner_main(args.runner, args.folder, args.spec)
        return
    began = time.perf_counter()
    scale = 10 if args.quick else 1
    sizes = [(10, 100_000 // scale, 1_000_000 // scale), (100, 100_000 // scale, 100_000 // scale)]
    scenarios = [(f"{c} columns, {r:,} x {n:,} rows", c, r, n) for c, r, n in sizes]
    rows = []
    with tempfile.TemporaryDirectory(prefix="steward-drift-bench-") as tmp:
        for i, (label, n_columns, n_reference, n_current) in enumerate(scenarios):
            folder = Path(tmp) / f"s{i}"
            folder.mkdir()
            spec = make_data(n_columns, n_reference, n_current, seed=i, folder=folder)
            print(f"{label}: planted {spec['planted']}", flush=True)
            results = {"ours": run_tool("ours", sys.executable, folder, spec),
                       "ours-streaming": run_tool("ours-streaming", sys.executable, folder, spec)}
            for tool, python in PEERS.items():
                results[tool] = run_tool(tool, python, folder, spec)
            for tool, out in results.items():
                if out is not None and results["ours"] is not None:
                    rows.append(_row(label, tool, out, results["ours"], spec["planted"]))
    load = os.getloadavg()
    versions = ", ".join(f"{tool} {_version(python, tool)}" for tool, python in PEERS.items() if Path(python).exists())
    header = [
        f"\n## Drift checks vs Evidently and NannyML ({_dt.date.today().isoformat()})\n",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}; SHARED with other jobs, load average at the end "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}. Peers: {versions} (each in its own virtualenv).\n",
        "Time = comparing the current frame with the reference frame, data already loaded (ours: build the "
        "reference profile + check; \"check only\" = with the profile a model carries). Peak = the process's peak "
        "RSS during the comparison (peak mark reset after loading the data); above data = that peak minus the RSS "
        "before it (interpreter, libraries, both frames). Ratios are over ours (frames). \"File in parts\" is what "
        "`steward drift --data` does: the reference frame is loaded, the current Parquet file is read 100,000 rows at "
        "a time and never held whole (its peak includes reading). Planted: "
        "10 columns: n0 mean +0.2 std, n1 spread x1.3, cat new category at 2%; 100 columns: every 10th mean +0.2 std.\n",
        "| scenario | tool | time s | time ratio | peak MB | above data MB | memory ratio | planted found | unplanted flagged | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    text = "\n".join(header + rows) + f"\n\nBenchmark time: {time.perf_counter() - began:.0f} s. Run: `.venv/bin/python benchmarks/drift.py`.\n"
    print(text)
    if not args.quick:
        with open(RESULTS, "a") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
