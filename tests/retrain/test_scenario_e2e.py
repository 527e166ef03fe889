"""The scripted scenario (examples/maintenance_loop.py) end to end, with the served model checked at
each step: v1 trained and promoted; batch 2 retrained and promoted; a corrupted batch 3 rejected at
ingest while production stays; forced in, then the dataset rolled back to v2; nothing new after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_the_maintenance_loop_example(tmp_path, make_server_env):
    workdir = tmp_path / "loop"
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "maintenance_loop.py"), "--workdir", str(workdir), "--serve"],
        env=make_server_env(), capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = json.loads((workdir / "summary.json").read_text())
    assert [(s["production"], s["dataset_version"], s["served"]) for s in summary] == [
        ("1", 1, "1"),  # v1 trained and promoted; the server answers as version 1
        ("2", 2, "2"),  # batch 2: a new model version trained on dataset v2
        ("2", 2, "2"),  # the corrupted batch 3 rejected at ingest: production stays
        ("2", 2, "2"),  # forced in, then `steward data rollback` back to v2
        ("2", 2, "2"),  # the next retrain: nothing new
    ]
    assert "REJECTED batch3_corrupted.csv" in done.stdout
