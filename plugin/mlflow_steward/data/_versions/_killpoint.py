"""Crash tests: ``STEWARD_KILL_POINT=<name>`` makes the process SIGKILL itself when it reaches the
point of that name (no ``finally``, no lock release, no run closed), as a crash or an OOM kill would.

Unset (always, outside the crash tests) it costs one environment lookup. The points are named in
the code that calls :func:`kill_point` (dataset writes here, the retrain job in ``retrain``).
"""

from __future__ import annotations

import os
import signal

ENV_KILL_POINT = "STEWARD_KILL_POINT"


def kill_point(name: str) -> None:
    """SIGKILL this process if ``STEWARD_KILL_POINT`` names this point."""
    if os.environ.get(ENV_KILL_POINT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
