"""Serving benchmark: our pyfunc wrapper (capture off / on) against plain ``mlflow.sklearn``.

Three ``mlflow models serve --env-manager local --workers 1`` servers on 127.0.0.1 serve the same
fitted housing pipeline (our cleaning pipeline + RandomForestRegressor(n_estimators=50)):

  (b) ``mlflow.sklearn.log_model`` (typed signature, MLflow's own schema enforcement),
  (a) ``log_pipeline_model`` with capture off, and
  (a) the same model with ``STEWARD_CAPTURE_PATH`` set (SQLite capture on).

Load: ``wrk`` (Debian package, a Lua script for the POST body) if installed, else a Python thread
pool. Single-row requests from 8 connections give p50/p99 latency; 1,000-row batches from 4
connections give rows/s. Each measurement runs ``--rounds`` times, alternating servers, and the
median is kept (other work on the machine shifts all servers alike). The in-process floor is
``pipeline.predict``, each pyfunc's ``predict`` and the scoring server's request path without HTTP. The table is printed and appended to ``benchmarks/RESULTS.md`` with the machine and date.

Run: ``.venv/bin/python benchmarks/serving.py`` (about 3-4 minutes on 2 cores).
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
SERVERS = ("sklearn", "ours_off", "ours_on")
LABELS = {
    "sklearn": "(b) mlflow.sklearn",
    "ours_off": "(a) ours, capture off",
    "ours_on": "(a) ours, capture on",
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


def build_pipeline(X: pd.DataFrame, y: pd.Series):
    from sklearn.ensemble import RandomForestRegressor

    numeric = [c for c in X.columns if c != "ocean_proximity"]
    forest = RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=1)
    try:
        from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

        pipeline = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig()), forest)
        kind = "steward cleaning pipeline + RandomForest(50)"
    except ImportError:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        cleaning = ColumnTransformer([
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
             ["ocean_proximity"]),
        ])  # fmt: skip
        pipeline = Pipeline([("cleaning", cleaning), ("model", forest)])
        kind = "sklearn imputer/one-hot + RandomForest(50)"
    return pipeline.fit(X, y), kind


def log_models(pipeline, X: pd.DataFrame, tmp: Path) -> tuple[str, str, str]:
    """Log (a) and (b) to a throwaway SQLite store; return (tracking uri, ours uri, sklearn uri)."""
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


def in_process(pipeline, ours_uri: str, plain_uri: str, X: pd.DataFrame, capture: Path) -> dict[str, dict[str, float]]:
    """The floor without HTTP: ``predict`` of each model, and the scoring server's own request path
    (``scoring_server.invocations``: JSON parsing, predict, JSON answer). Calls are interleaved so that
    every model sees the same machine load; p50 of single rows, rows/s of 1,000-row batches."""
    import mlflow
    from mlflow.pyfunc import scoring_server

    from mlflow_steward import names

    one, batch = X.head(1), X.head(1000)
    loaded = {
        "(b) mlflow.sklearn": mlflow.pyfunc.load_model(plain_uri),
        "(a) ours, capture off": mlflow.pyfunc.load_model(ours_uri),
        "(a) ours, capture on": mlflow.pyfunc.load_model(
            ours_uri, model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(capture)}
        ),
    }
    calls = {"pipeline.predict": pipeline.predict}
    calls.update({f"{name}: pyfunc predict": model.predict for name, model in loaded.items()})
    for name, model in loaded.items():
        schema = model.metadata.get_input_schema()

        def invoke(frame, model=model, schema=schema):
            body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))})
            answer = scoring_server.invocations(body, "application/json", model, schema)
            assert answer.status == 200, answer.response

        calls[f"{name}: scoring_server.invocations"] = invoke
    timings = {name: {"one": [], "batch": []} for name in calls}
    for frame, key, repeats in ((one, "one", 150), (batch, "batch", 15)):
        for name, call in calls.items():  # warm up
            call(frame)
        for _ in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                call(frame)
                timings[name][key].append(time.perf_counter() - start)
    return {
        name: {"p50_ms": float(np.median(t["one"]) * 1000), "rows_per_s": len(batch) / float(np.median(t["batch"]))}
        for name, t in timings.items()
    }


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


def render(http: dict[str, dict[str, float]], batch: dict[str, dict[str, float]], floor, meta: dict) -> str:
    base_single, base_batch = http["sklearn"], batch["sklearn"]
    lines = [
        f"## Serving: `mlflow models serve` latency and throughput ({meta['date']})",
        "",
        f"Machine: {meta['machine']}. Model: {meta['model']}, fitted on {meta['train_rows']:,} housing rows. "
        f"Servers: `mlflow models serve --env-manager local --workers 1` on 127.0.0.1. Load: {meta['tool']}, "
        f"single-row requests from {meta['connections']} connections and 1,000-row batches from "
        f"{meta['batch_connections']} connections, {meta['duration']:.0f} s each, median of {meta['rounds']} "
        "alternating rounds. Overhead = ours / (b) - 1 on p50 latency, and (b) / ours - 1 on rows/s.",
        "",
        "| server | 1-row p50 ms | 1-row p99 ms | 1-row req/s | 1,000-row batches rows/s | overhead p50 | overhead rows/s | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    targets = {"sklearn": "", "ours_off": "≤ 10%", "ours_on": "≤ 25%"}
    for name in SERVERS:
        s, b = http[name], batch[name]
        p50_over = "—" if name == "sklearn" else f"{s['p50_ms'] / base_single['p50_ms'] - 1:+.1%}"
        rows_over = "—" if name == "sklearn" else f"{base_batch['rows_per_s'] / b['rows_per_s'] - 1:+.1%}"
        lines.append(
            f"| {LABELS[name]} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['requests_per_s']:.0f} | "
            f"{b['rows_per_s']:,.0f} | {p50_over} | {rows_over} | {targets[name]} |"
        )
    lines += ["", "In-process floor, no HTTP (interleaved calls; p50 of 150 single-row calls, rows/s from the median "
              "of 15 calls on 1,000 rows). The scoring server's `invocations` is the request path of",
              "`mlflow models serve` without the network: JSON parsing (with the signature's casts for (b)), "
              "predict, JSON answer.", "",
              "| predict | 1-row p50 ms | 1,000-row rows/s |", "|---|---:|---:|"]  # fmt: skip
    for name, r in floor.items():
        lines.append(f"| {name} | {r['p50_ms']:.2f} | {r['rows_per_s']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--no-append", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even with wrk")
    args = parser.parse_args(argv)

    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="steward-bench-serving-"))
    try:
        frame = pd.read_csv(HOUSING)
        train = frame.sample(args.train_rows, random_state=0)
        X, y = train.drop(columns=[TARGET]), train[TARGET]
        pipeline, kind = build_pipeline(X, y)
        tracking_uri, ours_uri, plain_uri = log_models(pipeline, X, tmp)
        queries = frame.drop(columns=[TARGET]).sample(1000, random_state=1)
        bodies = {}
        for name, rows in (("single", queries.head(1)), ("batch", queries)):
            bodies[name] = tmp / f"{name}.json"
            bodies[name].write_text(json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}))
        use_wrk = shutil.which("wrk") is not None and not args.python_load
        load = (lambda *a: load_wrk(*a, tmp)) if use_wrk else (lambda *a: load_python(*a, tmp))
        base_env = {"MLFLOW_TRACKING_URI": tracking_uri}
        specs = {
            "sklearn": (plain_uri, base_env),
            "ours_off": (ours_uri, base_env),
            "ours_on": (ours_uri, {**base_env, "STEWARD_CAPTURE_PATH": str(tmp / "capture.db")}),
        }
        single = {n: [] for n in SERVERS}
        batch = {n: [] for n in SERVERS}
        with servers(specs, tmp) as urls:
            import requests

            for name, url in urls.items():  # warm up every server (and check the answers agree)
                for _ in range(20):
                    answer = requests.post(url, data=bodies["batch"].read_bytes(),
                                           headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
                    answer.raise_for_status()
                np.testing.assert_allclose(answer.json()["predictions"], pipeline.predict(queries))
            for round_ in range(args.rounds):
                order = SERVERS if round_ % 2 == 0 else tuple(reversed(SERVERS))
                for name in order:
                    single[name].append(load(urls[name], bodies["single"], args.connections, args.duration))
                    result = load(urls[name], bodies["batch"], args.batch_connections, args.duration)
                    batch[name].append({**result, "rows_per_s": result["requests_per_s"] * len(queries)})
        floor = in_process(pipeline, ours_uri, plain_uri, queries, tmp / "floor_capture.db")
        meta = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "model": kind,
            "train_rows": len(X), "tool": "wrk 4.1 (Lua POST script)" if use_wrk else "Python threads + requests",
            "connections": args.connections, "batch_connections": args.batch_connections,
            "duration": args.duration, "rounds": args.rounds,
        }  # fmt: skip
        table = render({n: median_of(single[n]) for n in SERVERS}, {n: median_of(batch[n]) for n in SERVERS}, floor, meta)
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
