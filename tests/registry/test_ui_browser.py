"""The MLflow UI shows the gate's verdict and the aliases on the promoted version's page.

Headless Chromium (Debian's package, installed by .ci/run) renders the page of a real
``mlflow server``; the DOM is asserted and a screenshot is kept under ``test-output/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlflow_steward.registry import promote

REPO = Path(__file__).resolve().parents[2]
GATE = {"n_resamples": 500, "slice_columns": ["ocean_proximity", "median_income"]}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=20000", "--window-size=1400,1000",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
    pytest.skip("chromium not installed (apt-get install chromium)")


def _render(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.e2e
@pytest.mark.browser
def test_version_page_shows_aliases_and_gate_summary(server_store, log_candidate, tmp_path):
    name = "housing-ui"
    log_candidate("linear", name=name)
    decision = promote(name, 1, config=GATE)
    assert decision.promoted

    url = f"{server_store}/#/models/{name}/versions/1"
    dom = _render(url, tmp_path / "profile-dom", "--dump-dom").stdout
    assert "steward gate" in dom and "PASSED" in dom, dom[-2000:]
    assert "production" in dom  # the alias chip (staging is cleared on promotion)

    shot = tmp_path / "version-page.png"
    _render(url, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert shot.exists() and shot.stat().st_size > 10_000
    keep = REPO / "test-output" / "registry"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "version-page.png")
