"""Server page benchmark: how long each ``/steward/`` page takes on a big model.

Builds a SQLite store holding one registered model with 200 versions (each gated: a gate run with
``gate/decision.json`` of 40 slice rows; about 120 production moves, so the ``steward.history`` tag
is truncated and the full history is read from the newest run's ``gate/history.json``) and 1,000
monitor runs (10 columns x 2 drift checks with intervals and alarm flags, live RMSE with interval),
plus 9 small models for the list. Then times each page two ways:

* in process: the page's data function (``mlflow_steward.app.model_page`` ...) and its rendering;
* over HTTP: ``mlflow server --app-name steward`` on 127.0.0.1, GET of each page, next to the REST
  call MLflow's own UI makes for its registered-model page (search of the model's versions), as
  the reference ratio.

Medians of ``--repeat`` runs. The table is printed and appended to ``benchmarks/RESULTS.md``.
Run: ``.venv/bin/python benchmarks/app_pages.py`` (about 2 minutes on 2 cores, most of it building).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
MODEL = "housing-big"
COLUMNS = ("longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms", "population",
           "households", "median_income", "ocean_proximity", "prediction")
CHECKS = ("psi", "missing_rate")
SLICE_VALUES = {"ocean_proximity": ("<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"),
                "median_income": tuple(f"q{i}" for i in range(1, 11)),
                "housing_median_age": tuple(f"q{i}" for i in range(1, 11)),
                "population": tuple(f"q{i}" for i in range(1, 16))}


def _iso(seconds: float) -> str:
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).isoformat(timespec="seconds")


def _decision(name: str, version: int, champion: int | None, passed: bool, rng: random.Random) -> dict:
    from mlflow_steward.registry import Check, Estimate, GateConfig, GateDecision, GateRow

    def row(column: str, value: str, n: int, worse: bool) -> GateRow:
        est = rng.gauss(-300, 400) + (2500 if worse else 0)
        return GateRow(column, value, n, 49000 + est, 49000.0, Estimate(est, est - 900, est + 900),
                       rng.random(), rng.random(), 490.0, "worse" if worse else "ok")

    rows = [row("overall", "", 4128, not passed)]
    bad = rng.randrange(40) if not passed else -1
    i = 0
    for column, values in SLICE_VALUES.items():
        for value in values:
            rows.append(row(column, value, 4128 // len(values), i == bad))
            i += 1
    checks = (Check("overall", passed, "overall rmse difference ..."), Check("slices", passed, "no slice worse"))
    return GateDecision(name, str(version), None if champion is None else str(champion), "regression", "rmse",
                        False, checks, tuple(rows), n_rows=4128, test_source="runs:/x/data/test.parquet",
                        config=GateConfig(), promoted=passed).to_dict()


def build_store(root: Path, *, versions: int = 200, windows: int = 1000, small_models: int = 9, seed: int = 0) -> str:
    """A SQLite store with the big model (and ``small_models`` others); returns its URI."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from mlflow_steward import names

    rng = random.Random(seed)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("train", artifact_location=(root / "artifacts").as_uri())
    start = time.time() - versions * 3600 * 6
    history: list[dict] = []
    production: int | None = None
    last_move_run = None
    for name in [MODEL] + [f"model-{i:02d}" for i in range(small_models)]:
        client.create_registered_model(name)
        count = versions if name == MODEL else 3
        for v in range(1, count + 1):
            rmse = 49000 + rng.gauss(0, 800)
            passed = production is None or rng.random() < 0.6
            tags = {
                names.TAG_TASK: "regression", names.TAG_DATASET_VERSION: f"{rng.getrandbits(48):012x}",
                names.metric_tag("rmse"): f"{rmse:,.0f} [{rmse * 0.96:,.0f}, {rmse * 1.04:,.0f}]",
                names.metric_tag("r2"): "0.8123 [0.8011, 0.8234]",
                names.TAG_GATE: names.GATE_PASSED if passed else names.GATE_REJECTED,
            }
            client.create_model_version(name, source=(root / "model").as_uri(), tags=tags)
            if name != MODEL:
                if v == 1:
                    client.set_registered_model_alias(name, names.ALIAS_PRODUCTION, "1")
                continue
            at = start + v * 3600 * 6
            run = client.create_run(experiment, start_time=int(at * 1000), run_name=f"gate {name} v{v}", tags={
                names.TAG_STEP: names.STEP_GATE, names.TAG_MODEL_NAME: name, names.TAG_MODEL_VERSION: str(v),
                names.TAG_CHAMPION_VERSION: "" if production is None else str(production),
                names.TAG_GATE: names.GATE_PASSED if passed else names.GATE_REJECTED,
            })
            run_id = run.info.run_id
            diff = rng.gauss(-300, 400)
            client.log_batch(run_id, metrics=[Metric(k, val, int(at * 1000), 0) for k, val in {
                "difference/rmse": diff, "difference/rmse_ci_low": diff - 900, "difference/rmse_ci_high": diff + 900,
                "challenger/rmse": rmse, "champion/rmse": 49000.0, "gate_passed": float(passed)}.items()],
                params=[Param("gate.resolved_metric", "rmse")])
            client.log_text(run_id, json.dumps(_decision(name, v, production, passed, rng)), names.ARTIFACT_GATE_DECISION)
            if passed:
                history.append({"seq": len(history) + 1, "action": "promote", "from_version": None if production is None else str(production),
                                "to_version": str(v), "at": _iso(at), "by": "bench@host", "reason": "gate passed", "run_id": run_id})
                production = v
                last_move_run = run_id
            elif v % 25 == 0 and production and production > 1:  # now and then a rollback
                target = max(1, production - 1)
                history.append({"seq": len(history) + 1, "action": "rollback", "from_version": str(production),
                                "to_version": str(target), "at": _iso(at + 60), "by": "oncall@host", "reason": "bad launch",
                                "run_id": run_id})
                production = target
                last_move_run = run_id
            if history and history[-1]["run_id"] == run_id:  # the move's run keeps the full history
                rolled = history[-1]["action"] == "rollback"
                client.log_text(run_id, json.dumps(history),
                                names.ARTIFACT_ROLLBACK_HISTORY if rolled else names.ARTIFACT_GATE_HISTORY)
            client.set_terminated(run_id, "FINISHED", end_time=int(at * 1000) + 5000)
        if name == MODEL:
            kept = list(history)
            while len(json.dumps(kept, separators=(",", ":"))) > 5000:
                kept.pop(0)  # the registry keeps the newest entries that fit in the tag
            client.set_registered_model_tag(name, names.TAG_HISTORY, json.dumps(kept, separators=(",", ":")))
            client.set_registered_model_alias(name, names.ALIAS_PRODUCTION, str(production))
            client.set_registered_model_alias(name, names.ALIAS_STAGING, str(versions))
    assert last_move_run is not None
    _monitor_runs(client, root, windows, rng, production or 1)
    return uri


def _monitor_runs(client, root: Path, windows: int, rng: random.Random, version: int) -> None:
    from mlflow.entities import Metric, RunTag

    from mlflow_steward import names

    experiment = client.create_experiment(f"steward-monitoring/{MODEL}", artifact_location=(root / "monitoring").as_uri())
    end = time.time()
    for i in range(windows):
        at = end - (windows - i) * 3600
        metrics: dict[str, float] = {}
        state = "healthy"
        for column in COLUMNS:
            for check in CHECKS:
                value = abs(rng.gauss(0.02, 0.02)) + (0.3 if column == "median_income" and i > windows * 0.9 else 0)
                key = f"drift/{column}/{check}"
                alarm = value > 0.2
                state = "drift" if alarm else state
                metrics.update({key: value, key + "_ci_low": value * 0.7, key + "_ci_high": value * 1.3,
                                key + "_alarm": float(alarm)})
        rmse = 49000 + rng.gauss(0, 1500)
        metrics.update({"live/rmse": rmse, "live/rmse_ci_low": rmse - 2500, "live/rmse_ci_high": rmse + 2500,
                        "live/n_labels": 400.0})
        run = client.create_run(experiment, start_time=int(at * 1000), tags={
            names.TAG_STEP: "monitor", names.TAG_MODEL_NAME: MODEL, names.TAG_MODEL_VERSION: str(version),
            "steward.window_start": _iso(at - 3600), "steward.window_end": _iso(at), "steward.monitor_state": state,
        })
        client.log_batch(run.info.run_id, metrics=[Metric(k, v, int(at * 1000), 0) for k, v in metrics.items()],
                         tags=[RunTag("mlflow.runName", f"window {i}")])
        client.set_terminated(run.info.run_id, "FINISHED", end_time=int(at * 1000) + 1000)


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def in_process(uri: str, repeat: int) -> list[tuple[str, float, float, float]]:
    """(page, data ms reading every monitor window from the store, data ms with the server's window
    cache warm, render ms)."""
    from mlflow import MlflowClient

    from mlflow_steward import app
    from mlflow_steward.app._html import Links
    from mlflow_steward.app._cache import ServerCache

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    links = Links()
    cache = ServerCache()
    gate_run = client.search_runs([client.get_experiment_by_name("train").experiment_id], max_results=1)[0].info.run_id
    pages = {
        "models list (10 models)": (lambda w: app.models_page(client, cache=w), app.render_models),
        f"model page ({MODEL})": (lambda w: app.model_page(client, MODEL, cache=w), app.render_model),
        "gate decision page": (lambda w: app.gate_page(client, MODEL, gate_run), app.render_gate),
        "dataset page": (lambda w: app.dataset_page(client, "housing"), app.render_dataset),
    }
    out = []
    for label, (data, render) in pages.items():
        cold = _median_ms(lambda: data(None), max(1, repeat // 3))
        data(cache)  # fills the cache (what the server's warm-up thread does at start)
        warm = _median_ms(lambda: data(cache), repeat)
        page = data(cache)
        out.append((label, cold, warm, _median_ms(lambda: render(page, links), repeat)))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(uri: str, root: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "MLFLOW_REGISTRY", "MLFLOW_AUTH", "STEWARD_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    log = open(root / "server.log", "w")
    process = subprocess.Popen(
        [str(VENV_BIN / "mlflow"), "server", "--app-name", "steward", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", uri, "--artifacts-destination", str(root / "proxied"), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url
    finally:
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def over_http(uri: str, root: Path, repeat: int) -> list[tuple[str, float, float]]:
    """(request, first request ms right after the server answers /health, median ms after)."""
    from urllib.parse import quote

    from mlflow import MlflowClient

    monitoring = MlflowClient(tracking_uri=uri).get_experiment_by_name(f"steward-monitoring/{MODEL}").experiment_id
    search_body = json.dumps({"experiment_ids": [monitoring], "max_results": 1000}).encode()

    def get(url: str) -> None:
        body = search_body if url.endswith("/runs/search") else None
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
            assert response.status == 200, url

    with server(uri, root) as url:
        filter_ = quote(f"name='{MODEL}'")
        targets = {
            f"model page ({MODEL})": f"{url}/steward/models/{MODEL}",
            "models list (10 models)": f"{url}/steward/",
            "dataset page": f"{url}/steward/datasets/housing",
            "MLflow REST: search the model's versions (its UI's model page)":
                f"{url}/ajax-api/2.0/mlflow/model-versions/search?filter={filter_}&max_results=10000",
            "MLflow REST: search the 1,000 monitor runs (what charting them in its UI reads)":
                f"{url}/ajax-api/2.0/mlflow/runs/search",
        }
        out = []
        for label, target in targets.items():
            first = _median_ms(lambda: get(target), 1)
            out.append((label, first, _median_ms(lambda: get(target), repeat)))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-append", action="store_true")
    parser.add_argument("--store", type=Path, help="build the store in this directory, or reuse the one there")
    args = parser.parse_args()
    began = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="steward-app-bench-") as tmp:
        root = args.store or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if (root / "mlflow.db").exists():
            uri, build_s = f"sqlite:///{root / 'mlflow.db'}", float("nan")
        else:
            uri = build_store(root, versions=args.versions, windows=args.windows)
            build_s = time.perf_counter() - t0
        local = in_process(uri, args.repeat)
        print(local, flush=True)
        remote = over_http(uri, root, args.repeat)
    reference = next(ms for label, _, ms in remote if label.startswith("MLflow REST: search the model's"))
    lines = [
        f"\n## Server page (`mlflow server --app-name steward`) — {_dt.date.today().isoformat()}\n",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (the 2 cores are shared with other work: absolute times are inflated, ratios less so). Store: SQLite, "
        f"one model with {args.versions} versions (each gated, a `gate/decision.json` of 45 rows; the history tag "
        f"truncated, so the full history is read from the newest move's run artifact) and {args.windows} monitor runs "
        f"(10 columns x 2 checks with intervals and alarm flags, live RMSE with interval: 85 metrics a run), 9 small "
        f"models{'' if build_s != build_s else f', built in {build_s:.0f} s'}. Median of {args.repeat}.\n",
        "In process (the page's data function, then its HTML). *Cold*: every monitor window read from the store; "
        "*warm*: the server's window cache filled (at start, by a background thread), so only runs finished since "
        "the last look are searched.\n",
        "| page | data ms, cold | data ms, warm | render ms | total ms, warm |",
        "|---|---:|---:|---:|---:|",
        *[f"| {label} | {c:.0f} | {w:.0f} | {r:.0f} | {w + r:.0f} |" for label, c, w, r in local],
        "",
        "Over HTTP (one uvicorn worker, `--artifacts-destination`, GET of the whole page); the first request "
        "comes right after the server answers `/health`, while the warm-up thread may still be reading:",
        "",
        "| request | first ms | median ms after | ratio to MLflow's own version search |",
        "|---|---:|---:|---:|",
        *[f"| {label} | {first:.0f} | {ms:.0f} | {ms / reference:.1f}x |" for label, first, ms in remote],
        "",
        f"Benchmark time: {time.time() - began:.0f} s. Run: `.venv/bin/python benchmarks/app_pages.py`.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_append:
        with open(HERE / "RESULTS.md", "a") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
