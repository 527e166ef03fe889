"""The maintenance loop, start to finish, with the commands a cron job would run.

California housing arrives in three batches (a fixed random order). Batch 1 creates dataset version
1 and the first retrain promotes a model; batch 2 becomes version 2 and the retrain promotes a new
model trained on it; a corrupted batch 3 (its target column shuffled) is rejected at ingest and
production stays; someone forces it in anyway (``--allow``) and ``steward data rollback`` returns
the dataset to version 2; the next retrain finds nothing new. With ``--serve``, after each step
``mlflow models serve -m models:/NAME@production`` is started and must answer with the predictions
of the expected model version.

    python examples/maintenance_loop.py --workdir /tmp/loop [--data housing.csv] [--serve]

Everything lands in ``<workdir>/mlflow.db`` (tracking and registry) and ``<workdir>/mlartifacts``;
open it with ``mlflow ui --backend-store-uri sqlite:///<workdir>/mlflow.db``. A summary of every
step is written to ``<workdir>/summary.json``. The script stops with an error at the first step
that does not go as described.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

NAME = "housing"
TARGET = "median_house_value"
# a small, fast search: the point is the mechanics (bigger: drop --families and --n-trials)
SEARCH = ["--families", "ridge", "--n-trials", "3", "--gate-config",
          '{"n_resamples": 500, "slice_columns": ["ocean_proximity"]}']


def split_batches(source: Path, workdir: Path) -> list[Path]:
    """Three disjoint batches in a fixed random order, and ``batch3_corrupted.csv`` (target shuffled)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(source)
    order = np.random.default_rng(2026).permutation(len(frame))
    paths = []
    for i, part in enumerate(np.array_split(order, 3)):
        path = workdir / f"batch{i + 1}.csv"
        frame.iloc[np.sort(part)].to_csv(path, index=False)
        paths.append(path)
    corrupted = pd.read_csv(paths[2])
    corrupted[TARGET] = np.random.default_rng(3).permutation(corrupted[TARGET].to_numpy())
    corrupted.to_csv(workdir / "batch3_corrupted.csv", index=False)
    return [*paths[:2], workdir / "batch3_corrupted.csv"]


class Loop:
    def __init__(self, workdir: Path, serve: bool) -> None:
        self.workdir = workdir
        self.serve = serve
        self.uri = f"sqlite:///{workdir / 'mlflow.db'}"
        self.env = {**os.environ, "MLFLOW_TRACKING_URI": self.uri, "MLFLOW_REGISTRY_URI": self.uri,
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.summary: list[dict] = []

    def steward(self, *args: object, expect: int) -> str:
        """Run ``steward ARGS`` (as cron would) and check its exit code."""
        command = ["steward", *map(str, args)]
        print(f"\n$ {' '.join(command)}", flush=True)
        done = subprocess.run(command, cwd=self.workdir, env=self.env, capture_output=True, text=True)
        lines = [line for line in (done.stdout + done.stderr).splitlines() if not line.startswith(("[I ", "20"))]
        print("\n".join(lines[-12:]), flush=True)
        if done.returncode != expect:
            raise SystemExit(f"`{' '.join(command)}` exited with {done.returncode}, expected {expect}")
        return done.stdout

    def production(self) -> str | None:
        import mlflow

        try:
            aliases = mlflow.MlflowClient(self.uri, self.uri).get_registered_model(NAME).aliases or {}
        except mlflow.exceptions.MlflowException:
            return None
        version = aliases.get("production")
        return None if version is None else str(version)

    def check(self, step: str, *, production: str | None, dataset: int) -> None:
        """Production and the dataset's current version are as expected; the server answers with
        the expected version's predictions."""
        import mlflow

        from mlflow_steward import data

        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)
        current = data.get_version(NAME).version
        now = self.production()
        if (now, current) != (production, dataset):
            raise SystemExit(f"{step}: production {now}, dataset v{current}; expected {production}, v{dataset}")
        served = self.served(production) if self.serve and production else None
        self.summary.append({"step": step, "production": now, "dataset_version": current, "served": served})
        print(f"== {step}: production = version {now}, dataset = v{current}"
              + (f", the server answers as version {served}" if served else ""), flush=True)

    def served(self, expected: str) -> str:
        """Start ``mlflow models serve`` on models:/NAME@production and check it answers as ``expected``."""
        import mlflow
        import numpy as np
        import pandas as pd
        import requests

        rows = pd.read_csv(self.workdir / "batch1.csv").drop(columns=[TARGET]).head(20)
        want = np.asarray(mlflow.pyfunc.load_model(f"models:/{NAME}/{expected}").predict(rows), dtype=float)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = open(self.workdir / f"serve-{len(self.summary)}.log", "w")
        server = subprocess.Popen(
            ["mlflow", "models", "serve", "-m", f"models:/{NAME}@production", "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(port)],
            env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"mlflow models serve exited with {server.returncode}: see {log.name}")
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("mlflow models serve did not come up in 180 s")
                time.sleep(0.5)
            answer = requests.post(f"http://127.0.0.1:{port}/invocations",
                                   json={"dataframe_split": rows.to_dict(orient="split")}, timeout=30)
            answer.raise_for_status()
            got = np.asarray(answer.json()["predictions"], dtype=float)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            log.close()
        if not np.allclose(got, want, rtol=1e-9):
            raise SystemExit(f"the server's predictions are not version {expected}'s")
        return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None, help="housing CSV (default: the bundled demo data)")
    parser.add_argument("--serve", action="store_true", help="check what mlflow models serve answers at each step")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "mlflow.db").exists():
        raise SystemExit(f"{workdir / 'mlflow.db'} exists: give an empty --workdir")
    from mlflow_steward.data import demo_dataset_path

    batch1, batch2, corrupted = split_batches(args.data or demo_dataset_path(), workdir)
    loop = Loop(workdir, args.serve)

    loop.steward("data", "add", NAME, batch1, "--target", TARGET, "--task", "regression", expect=0)
    loop.steward("retrain", NAME, *SEARCH, expect=0)  # cron: 0 = promoted (or nothing to do)
    loop.check("v1 trained and promoted", production="1", dataset=1)

    loop.steward("data", "add", NAME, batch2, expect=0)
    loop.steward("retrain", NAME, *SEARCH, expect=0)
    loop.check("batch 2: retrained and promoted", production="2", dataset=2)

    loop.steward("data", "add", NAME, corrupted, expect=3)  # 3: a check failed, nothing stored
    loop.check("corrupted batch 3 rejected at ingest", production="2", dataset=2)

    loop.steward("data", "add", NAME, corrupted, "--allow", "--reason", "someone forced it in", expect=0)
    loop.steward("data", "rollback", NAME, "--to", 2, "--reason", "batch 3 has a shuffled target", expect=0)
    loop.check("forced in, then rolled back to v2", production="2", dataset=2)
    out = loop.steward("retrain", NAME, *SEARCH, expect=0)
    if not out.strip().splitlines()[-1].startswith("nothing new"):
        raise SystemExit("the retrain after the rollback should have found nothing new")
    loop.check("retrain after the rollback: nothing new", production="2", dataset=2)

    loop.steward("data", "show", NAME, expect=0)
    (workdir / "summary.json").write_text(json.dumps(loop.summary, indent=2))
    print(f"\nall steps as expected; summary in {workdir / 'summary.json'}; "
          f"mlflow ui --backend-store-uri {loop.uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
