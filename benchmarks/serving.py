"""Serving benchmark: the fast path against the pipeline, and against plain ``mlflow.sklearn``.

The same fitted pipeline (the quickstart's production model by default: the demo cleaning with
ratio and cluster-similarity features + HistGradientBoostingRegressor, fitted on housing) served
four ways, side by side in one run:

  (a) ``log_pipeline_model``: our pyfunc with the fast path (the cleaning compiled into array kernels),
  (b) the same model with the fast path off (``STEWARD_FAST_PATH=0``: the pipeline's own predict),
  (c) ``mlflow.sklearn.log_model`` of the same pipeline (typed signature, MLflow's schema enforcement),
  (d) (a) with inference capture on (SQLite), for the cost of capture,
  (e) (a) with Prometheus metrics off (``STEWARD_METRICS=0``) and no capture: ours, bare.

Served models of ours expose Prometheus metrics by default (issue 14), so over HTTP (a), (b) and (d)
count every request into ``/metrics``; (d) against (c) is the overhead of metrics + capture on over
bare ``mlflow.sklearn`` (target: at most 10% more time per row on 1,000-row batches), (d) and (a)
against (e) isolate what metrics and capture cost within our own server.

In process: ``predict`` of each loaded pyfunc and the scoring server's request path without the
network (``scoring_server.invocations``: JSON parsing, predict, JSON answer), calls interleaved
(a, b, c, d, a, b, ...) so every variant sees the same machine; p50 of single rows, rows/s of
1,000-row batches. Over HTTP: ``mlflow models serve --env-manager local --workers 1`` on 127.0.0.1,
loaded with ``wrk`` (a Lua POST script; a Python thread pool without it), bounded in time: single
rows from one connection (latency without queueing), 1,000-row batches from one connection (the
worker's own throughput: the target) and from two (the scoring server runs requests in threads, so
two requests overlap, and an estimator with several threads gains from that); each measurement
runs ``--rounds`` times, servers interleaved, medians kept. Before measuring, every
variant's answers are checked against ``pipeline.predict``.

``--threads`` adds the measurement behind the fast path's small-batch rule: the estimator alone on
batches of 1 to 3,000 rows, with all OpenMP threads and with one.

Targets (issue 18): in-process 1-row latency of (a) <= 1/4 of (c)'s, HTTP 1-row p50 <= 1/2 of (c)'s,
1,000-row rows/s >= 1.5x (c)'s. The table (machine, load average, date) is printed and appended to
``benchmarks/RESULTS.md``.

Run: ``.venv/bin/python benchmarks/serving.py`` (about 9 minutes on 2 cores; ``--threads`` adds 2).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOUSING = REPO.parent / "shared" / "data" / "housing.csv"
TARGET = "median_house_value"
VENV_BIN = Path(sys.executable).parent
VARIANTS = ("fast", "slow", "sklearn", "capture", "bare")
LABELS = {
    "fast": "(a) ours, fast path, metrics on",
    "slow": "(b) ours, fast path off, metrics on",
    "sklearn": "(c) mlflow.sklearn",
    "capture": "(d) ours, fast path, metrics + capture",
    "bare": "(e) ours, fast path, metrics and capture off",
}

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def build_pipeline(X: pd.DataFrame, y: pd.Series, model: str):
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

    numeric = [c for c in X.columns if c != "ocean_proximity"]
    config = CleaningConfig(  # the quickstart's demo cleaning (workflow/_demo.py)
        ratios=(("rooms_per_house", "total_rooms", "households"), ("bedrooms_ratio", "total_bedrooms", "total_rooms"),
                ("people_per_house", "population", "households")),
        cluster_similarity={"columns": ["latitude", "longitude"], "n_clusters": 10, "gamma": 1.0},
    )  # fmt: skip
    if model == "forest":
        estimator, kind = RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=1), "RandomForest(50)"
    else:
        estimator, kind = HistGradientBoostingRegressor(random_state=0), "HistGradientBoosting(100 iterations)"
    pipeline = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"], config), estimator)
    return pipeline.fit(X, y), f"steward demo cleaning (ratios, 10 cluster similarities, clipping, imputation, scaling, one-hot) + {kind}"


def log_models(pipeline, X: pd.DataFrame, tmp: Path) -> tuple[str, str, str]:
    """Log ours and plain mlflow.sklearn to a throwaway SQLite store; return (tracking uri, ours uri, sklearn uri)."""
    import mlflow
    from mlflow.models import infer_signature

    from mlflow_steward.serving import choose_serialization, log_pipeline_model

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("bench", artifact_location=(tmp / "artifacts").as_uri())
    example = X.head(5)
    with mlflow.start_run(experiment_id=experiment):
        ours = log_pipeline_model(pipeline, input_example=example, name="ours").model_uri
        serialization, trusted, _ = choose_serialization(pipeline)
        plain = mlflow.sklearn.log_model(
            pipeline, name="plain", signature=infer_signature(example, pipeline.predict(example)),
            input_example=example, serialization_format=serialization,
            skops_trusted_types=list(trusted) if serialization == "skops" else None,
        ).model_uri  # fmt: skip
    return uri, ours, plain


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def servers(specs: dict[str, tuple[str, dict[str, str]]], tmp: Path, timeout: float = 240.0):
    """Start every ``name -> (model uri, extra env)`` server; yield name -> url; stop all by pid."""
    import requests

    processes: dict[str, subprocess.Popen] = {}
    urls: dict[str, str] = {}
    try:
        for name, (model_uri, extra) in specs.items():
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
            env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
            env.update(extra)
            command = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local",
                       "-h", "127.0.0.1", "-p", str(port), "--workers", "1"]  # fmt: skip
            with open(tmp / f"{name}.log", "w") as log:
                processes[name] = subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp
                )
            urls[name] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        for name, url in urls.items():
            while True:
                if processes[name].poll() is not None:
                    raise RuntimeError(f"server {name} exited: {(tmp / f'{name}.log').read_text()[-3000:]}")
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server {name} not up after {timeout:.0f} s")
                time.sleep(0.5)
        yield {name: f"{url}/invocations" for name, url in urls.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def load_wrk(url: str, body_file: Path, connections: int, duration: float, tmp: Path) -> dict[str, float]:
    script = tmp / f"post_{body_file.stem}.lua"
    script.write_text(WRK_SCRIPT.replace("{body}", str(body_file)))
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:.0f}s", "--timeout", "30s",
         "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=duration + 60,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests_done, duration_us, p50, p99, bad_status, socket_errors = map(int, line.split()[1:])
    if bad_status or socket_errors:
        raise RuntimeError(f"{url}: {bad_status} non-2xx answers, {socket_errors} socket errors\n{out}")
    return {"p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "requests_per_s": requests_done / (duration_us / 1e6)}


def load_python(url: str, body_file: Path, connections: int, duration: float, tmp: Path) -> dict[str, float]:
    """Fallback without wrk: one ``requests.Session`` per client thread, bounded by time."""
    import requests

    body = body_file.read_bytes()
    latencies: list[list[float]] = [[] for _ in range(connections)]
    stop_at = time.perf_counter() + duration
    failures: list[str] = []

    def client(i: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                response = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                latencies[i].append(time.perf_counter() - start)
                if response.status_code != 200:
                    failures.append(response.text[:200])
                    return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{url}: {failures[0]}")
    flat = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    return {"p50_ms": float(np.percentile(flat, 50)), "p99_ms": float(np.percentile(flat, 99)),
            "requests_per_s": len(flat) / elapsed}  # fmt: skip


def load_variants(ours_uri: str, plain_uri: str, capture: Path) -> dict:
    import mlflow

    from mlflow_steward import names

    loaded = {
        "fast": mlflow.pyfunc.load_model(ours_uri),
        "slow": mlflow.pyfunc.load_model(ours_uri, model_config={names.MODEL_CONFIG_FAST_PATH: "0"}),
        "sklearn": mlflow.pyfunc.load_model(plain_uri),
        "capture": mlflow.pyfunc.load_model(ours_uri, model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(capture)}),
        "bare": mlflow.pyfunc.load_model(ours_uri),  # metrics exist only inside the scoring server
    }
    for name in ("fast", "capture", "bare"):
        assert loaded[name].unwrap_python_model().fast_path.enabled, loaded[name].unwrap_python_model().fast_path
    assert not loaded["slow"].unwrap_python_model().fast_path.enabled
    return loaded


def check_answers(loaded: dict, pipeline, queries: pd.DataFrame) -> None:
    """Every variant predicts what the pipeline predicts (the plan to 1e-9 of the output's scale)."""
    expected = pipeline.predict(queries)
    scale = float(np.max(np.abs(expected)))
    for name, model in loaded.items():
        got = np.asarray(model.predict(queries), dtype=float).ravel()
        assert np.max(np.abs(got - expected)) <= 1e-9 * scale, name


def in_process(pipeline, loaded: dict, X: pd.DataFrame, repeats: tuple[int, int]) -> dict[str, dict[str, float]]:
    """``predict`` of each pyfunc and the scoring server's request path, calls interleaved."""
    from mlflow.pyfunc import scoring_server

    one, batch = X.head(1), X.head(1000)
    calls = {"pipeline.predict (no pyfunc)": pipeline.predict}
    calls.update({f"{LABELS[name]}: pyfunc predict": model.predict for name, model in loaded.items()})
    for name, model in loaded.items():
        schema = model.metadata.get_input_schema()

        def invoke(frame, model=model, schema=schema):
            body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))})
            answer = scoring_server.invocations(body, "application/json", model, schema)
            assert answer.status == 200, answer.response

        calls[f"{LABELS[name]}: scoring_server.invocations"] = invoke
    timings = {name: {"one": [], "batch": []} for name in calls}
    for frame, key, count in ((one, "one", repeats[0]), (batch, "batch", repeats[1])):
        for call in calls.values():  # warm up
            call(frame)
        for _ in range(count):
            for name, call in calls.items():
                start = time.perf_counter()
                call(frame)
                timings[name][key].append(time.perf_counter() - start)
    return {
        name: {"p50_ms": float(np.median(t["one"]) * 1000), "rows_per_s": len(batch) / float(np.median(t["batch"]))}
        for name, t in timings.items()
    }


def threads_table(pipeline, X: pd.DataFrame, repeats: int) -> list[tuple[int, float, float]]:
    """The estimator alone (cleaned input, scikit-learn's own predict): ms per call with all OpenMP
    threads and with one, per batch size, interleaved; medians."""
    from threadpoolctl import threadpool_limits

    estimator = pipeline[-1]
    rows = []
    for size in (1, 10, 100, 1000, 3000, 10_000, 20_000):
        cleaned = pipeline[:-1].transform(X.sample(size, replace=size > len(X), random_state=size))
        times: dict[str, list[float]] = {"all": [], "one": []}
        for _ in range(repeats):
            for key in ("all", "one"):
                limit = threadpool_limits(1, user_api="openmp") if key == "one" else contextlib.nullcontext()
                with limit:
                    start = time.perf_counter()
                    estimator.predict(cleaned)
                    times[key].append(time.perf_counter() - start)
        rows.append((size, float(np.median(times["all"]) * 1000), float(np.median(times["one"]) * 1000)))
    return rows


def check_metrics(urls: dict[str, str]) -> None:
    """(a), (b), (d) count the warm-up requests on /metrics; (e) has none."""
    import requests

    for name, url in urls.items():
        answer = requests.get(url.replace("/invocations", "/metrics"), timeout=10)
        if name in ("fast", "slow", "capture"):
            counted = [line for line in answer.text.splitlines() if line.startswith("steward_requests_total ")]
            assert answer.status_code == 200 and counted and float(counted[0].split()[1]) >= 10, (name, answer.text[:300])
        elif name == "bare":
            assert answer.status_code == 404, name


METRICS_COST = """
import os, sys, tempfile, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="steward-bench-metrics-")
from mlflow_steward.serving import _metrics
from mlflow_steward.serving._capture import ModelIdentity
metrics = _metrics.ServingMetrics(_metrics.prepare_directory())
metrics.describe_model(ModelIdentity("bench", "1"), "on")
for _ in range(2000):
    state = metrics.begin(); _metrics.note_rows(1000); metrics.prediction(0.01); metrics.end(state, 200)
runs = []
for _ in range(5):
    start = time.perf_counter()
    for _ in range(5000):
        state = metrics.begin(); _metrics.note_rows(1000); metrics.prediction(0.01); metrics.end(state, 200)
    runs.append((time.perf_counter() - start) / 5000)
print(sorted(runs)[2] * 1e6)
"""


def metrics_cost_us() -> float:
    """Median microseconds of one request's metrics bookkeeping (begin, rows, both histograms, end with the
    capture sync), in a fresh process in multiprocess mode: the part of (a)-(e) that is metrics."""
    out = subprocess.run([sys.executable, "-c", METRICS_COST], capture_output=True, text=True, check=True, timeout=300)
    return float(out.stdout.strip().splitlines()[-1])


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "n/a"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render(http: dict, batch: dict, batch2: dict, floor: dict, threads: list | None, meta: dict) -> str:
    c_one = floor[f"{LABELS['sklearn']}: pyfunc predict"]
    a_one = floor[f"{LABELS['fast']}: pyfunc predict"]
    lines = [
        f"## Serving: ours (fast path on / off, metrics, capture) vs `mlflow.sklearn` ({meta['date']})",
        "",
        f"Machine: {meta['machine']}; **shared with other agents' jobs while it ran** (load average "
        f"{meta['load_start']} at the start, {meta['load_end']} at the end). Model: {meta['model']}, fitted on "
        f"{meta['train_rows']:,} housing rows; queries: 1,000 other housing rows. In process: calls interleaved "
        f"(a, b, c, d, a, ...), p50 of {meta['repeats'][0]} single-row calls, rows/s from the median of "
        f"{meta['repeats'][1]} calls on 1,000 rows. HTTP: `mlflow models serve --env-manager local --workers 1` "
        f"on 127.0.0.1, {meta['tool']}, single rows and 1,000-row batches from one connection, batches also "
        f"from two, {meta['duration']:.0f} s each, servers interleaved, median of "
        f"{meta['rounds']} rounds. Every variant's answers were checked against `pipeline.predict` first.",
        "",
        "| variant | in-process 1-row p50 ms | in-process 1,000-row rows/s | HTTP 1-row p50 ms | HTTP 1-row p99 ms "
        "| HTTP 1,000-row rows/s | HTTP 1,000-row rows/s, 2 connections |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in VARIANTS:
        f = floor[f"{LABELS[name]}: pyfunc predict"]
        s, b, b2 = http[name], batch[name], batch2[name]
        lines.append(f"| {LABELS[name]} | {f['p50_ms']:.2f} | {f['rows_per_s']:,.0f} | {s['p50_ms']:.2f} | "
                     f"{s['p99_ms']:.2f} | {b['rows_per_s']:,.0f} | {b2['rows_per_s']:,.0f} |")  # fmt: skip
    inproc_latency = a_one["p50_ms"] / c_one["p50_ms"]
    http_latency = http["fast"]["p50_ms"] / http["sklearn"]["p50_ms"]
    inproc_rows = a_one["rows_per_s"] / c_one["rows_per_s"]
    http_rows = batch["fast"]["rows_per_s"] / batch["sklearn"]["rows_per_s"]
    http_rows2 = batch2["fast"]["rows_per_s"] / batch2["sklearn"]["rows_per_s"]
    overhead_c = batch["sklearn"]["rows_per_s"] / batch["capture"]["rows_per_s"]
    overhead_e = batch["bare"]["rows_per_s"] / batch["capture"]["rows_per_s"]
    metrics_only = batch["bare"]["rows_per_s"] / batch["fast"]["rows_per_s"]
    overhead_e2 = batch2["bare"]["rows_per_s"] / batch2["capture"]["rows_per_s"]
    lines += [
        "",
        "| (a) fast path vs (c) mlflow.sklearn | ratio | target | |",
        "|---|---:|---|---|",
        f"| in-process 1-row latency | {inproc_latency:.3f} | <= 0.25 | {_verdict(inproc_latency <= 0.25)} |",
        f"| HTTP 1-row p50 latency | {http_latency:.3f} | <= 0.5 | {_verdict(http_latency <= 0.5)} |",
        f"| in-process 1,000-row rows/s | {inproc_rows:.2f}x | >= 1.5x | {_verdict(inproc_rows >= 1.5)} |",
        f"| HTTP 1,000-row rows/s | {http_rows:.2f}x | >= 1.5x | {_verdict(http_rows >= 1.5)} |",
        f"| HTTP 1,000-row rows/s, 2 connections | {http_rows2:.2f}x | (no target) | |",
        "",
        "Overhead of Prometheus metrics + capture (issue 14), HTTP 1,000-row batches from one connection: time "
        "per row relative to the reference (1.10 = 10% slower).",
        "",
        "| variant vs reference | time per row ratio | target | |",
        "|---|---:|---|---|",
        f"| (d) metrics + capture vs (c) bare mlflow.sklearn | {overhead_c:.3f} | <= 1.10 | {_verdict(overhead_c <= 1.10)} |",
        f"| (d) metrics + capture vs (e) ours, both off | {overhead_e:.3f} | (no target) | |",
        f"| (a) metrics only vs (e) ours, both off | {metrics_only:.3f} | (no target) | |",
        f"| (d) metrics + capture vs (e), 2 connections | {overhead_e2:.3f} | (no target) | |",
        "",
        f"Metrics bookkeeping alone, timed in process (a fresh process in multiprocess mode, median of 5 x 5,000 "
        f"requests): {meta['metrics_us']:.1f} us per request, "
        f"{100 * meta['metrics_us'] * batch['bare']['rows_per_s'] / 1e9:.2f}% "
        "of (e)'s time for a 1,000-row request over HTTP; the rest of any (a) vs (e) difference is the shared machine.",
        "",
        "In process, every call path (p50 ms of one row; rows/s on 1,000 rows). `scoring_server.invocations` is "
        "the request path of `mlflow models serve` without the network: JSON parsing (with the signature's "
        "casts for (c)), predict, JSON answer.",
        "",
        "| call | 1-row p50 ms | 1,000-row rows/s |",
        "|---|---:|---:|",
    ]
    for name, r in floor.items():
        lines.append(f"| {name} | {r['p50_ms']:.2f} | {r['rows_per_s']:,.0f} |")
    if threads:
        lines += [
            "",
            "Small-batch threads (`--threads`): the estimator's own `predict` on the cleaned matrix, ms per call "
            "with all OpenMP threads and with one (threadpoolctl), interleaved, medians. The fast path runs "
            f"batches under {meta['small_batch_rows']:,} rows on one thread.",
            "",
            "| rows | all threads ms | one thread ms | one / all |",
            "|---:|---:|---:|---:|",
        ]
        for size, every, single in threads:
            lines.append(f"| {size:,} | {every:.2f} | {single:.2f} | {single / every:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("hgb", "forest"), default="hgb")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per HTTP load measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, nargs=2, default=(60, 10), metavar=("ONE", "BATCH"),
                        help="in-process calls per variant on one row and on 1,000 rows")  # fmt: skip
    parser.add_argument("--threads", action="store_true", help="also measure the estimator on 1 vs all threads")
    parser.add_argument("--no-http", action="store_true", help="in-process only")
    parser.add_argument("--no-append", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even with wrk")
    args = parser.parse_args(argv)

    from mlflow_steward.serving._plan import SMALL_BATCH_ROWS

    began = time.monotonic()
    load_start = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-serving-"))
    try:
        frame = pd.read_csv(HOUSING)
        train = frame.sample(args.train_rows, random_state=0)
        X, y = train.drop(columns=[TARGET]), train[TARGET]
        pipeline, kind = build_pipeline(X, y, args.model)
        tracking_uri, ours_uri, plain_uri = log_models(pipeline, X, tmp)
        queries = frame.drop(index=train.index).drop(columns=[TARGET]).sample(1000, random_state=1)
        loaded = load_variants(ours_uri, plain_uri, tmp / "floor_capture.db")
        check_answers(loaded, pipeline, queries)
        print("answers checked; in process ...", flush=True)
        floor = in_process(pipeline, loaded, queries, tuple(args.repeats))
        threads = threads_table(pipeline, queries, 7) if args.threads else None
        single = {n: [] for n in VARIANTS}
        batch = {n: [] for n in VARIANTS}
        batch2 = {n: [] for n in VARIANTS}
        use_wrk = shutil.which("wrk") is not None and not args.python_load
        if not args.no_http:
            print("HTTP ...", flush=True)
            bodies = {}
            for name, rows in (("single", queries.head(1)), ("batch", queries)):
                bodies[name] = tmp / f"{name}.json"
                bodies[name].write_text(json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}))
            load = (lambda *a: load_wrk(*a, tmp)) if use_wrk else (lambda *a: load_python(*a, tmp))
            base_env = {"MLFLOW_TRACKING_URI": tracking_uri}
            specs = {
                "fast": (ours_uri, base_env),
                "slow": (ours_uri, {**base_env, "STEWARD_FAST_PATH": "0"}),
                "sklearn": (plain_uri, base_env),
                "capture": (ours_uri, {**base_env, "STEWARD_CAPTURE_PATH": str(tmp / "capture.db")}),
                "bare": (ours_uri, {**base_env, "STEWARD_METRICS": "0"}),
            }
            with servers(specs, tmp) as urls:
                import requests

                expected = pipeline.predict(queries)
                for name, url in urls.items():  # warm up every server (and check the answers agree)
                    for _ in range(10):
                        answer = requests.post(url, data=bodies["batch"].read_bytes(),
                                               headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
                        answer.raise_for_status()
                    got = np.asarray(answer.json()["predictions"], dtype=float)
                    assert np.max(np.abs(got - expected)) <= 1e-9 * np.max(np.abs(expected)), name
                check_metrics(urls)
                for round_ in range(args.rounds):
                    order = VARIANTS if round_ % 2 == 0 else tuple(reversed(VARIANTS))
                    for name in order:
                        single[name].append(load(urls[name], bodies["single"], 1, args.duration))
                        for connections, results in ((1, batch), (2, batch2)):
                            result = load(urls[name], bodies["batch"], connections, args.duration)
                            results[name].append({**result, "rows_per_s": result["requests_per_s"] * len(queries)})
        else:
            nothing = {"p50_ms": float("nan"), "p99_ms": float("nan"), "requests_per_s": float("nan"), "rows_per_s": float("nan")}
            single = {n: [nothing] for n in VARIANTS}
            batch = {n: [nothing] for n in VARIANTS}
            batch2 = {n: [nothing] for n in VARIANTS}
        meta = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "model": kind,
            "train_rows": len(X), "tool": "wrk 4.1 (Lua POST script)" if use_wrk else "Python threads + requests",
            "duration": args.duration, "rounds": args.rounds, "repeats": tuple(args.repeats),
            "load_start": load_start, "load_end": load_average(), "small_batch_rows": SMALL_BATCH_ROWS,
            "metrics_us": metrics_cost_us(),
        }  # fmt: skip
        table = render({n: median_of(single[n]) for n in VARIANTS}, {n: median_of(batch[n]) for n in VARIANTS},
                       {n: median_of(batch2[n]) for n in VARIANTS}, floor, threads, meta)  # fmt: skip
        print(table)
        if not args.no_append:
            results = HERE / "RESULTS.md"
            with open(results, "a") as handle:  # append only: other benchmarks write sections here too
                handle.write(("\n" if results.exists() and results.stat().st_size else "") + table)
            print(f"appended to {results}")
        print(f"total time {time.monotonic() - began:.0f} s")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
