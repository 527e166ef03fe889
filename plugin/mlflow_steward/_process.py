"""Which process wrote a lock, a run or a history entry, and whether it is still alive.

A process is named by host name, pid and PID namespace (``/proc/self/ns/pid``): a pid is only ever
compared with pids of the same namespace on the same host. Anything else counts as alive (the
caller then relies on the lease's expiry). The registry's lock and the dataset lease share this rule.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from typing import Any


def whoami() -> str:
    """``user@host`` of this process (``MLFLOW_TRACKING_USERNAME`` first), for history entries."""
    try:
        user = os.environ.get("MLFLOW_TRACKING_USERNAME") or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux, or /proc not mounted
        return None


@dataclass(frozen=True)
class ProcessId:
    """Host name, pid and PID namespace of a process (namespace None where unknown)."""

    host: str
    pid: int
    pidns: str | None

    @classmethod
    def current(cls) -> ProcessId:
        return cls(socket.gethostname(), os.getpid(), _pid_namespace())

    @classmethod
    def from_dict(cls, data: Any) -> ProcessId | None:
        """From a lock payload or an owner tag; None when the fields are missing or malformed."""
        if not isinstance(data, dict):
            return None
        try:
            host, pid = str(data["host"]), int(data["pid"])
        except (KeyError, TypeError, ValueError):
            return None
        pidns = data.get("pidns")
        return cls(host, pid, None if pidns is None else str(pidns))

    @classmethod
    def parse(cls, text: str | None) -> ProcessId | None:
        try:
            return cls.from_dict(json.loads(text)) if text else None
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "pidns": self.pidns}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"

    def is_gone(self) -> bool:
        """True only when this process is known to have ended: same host and PID namespace as us,
        and no such pid (or a zombie). A process elsewhere, or from a record without a namespace
        (written by an earlier release), is never declared gone."""
        here = ProcessId.current()
        if self.host != here.host or self.pidns is None or self.pidns != here.pidns:
            return False
        return not pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs in our PID namespace (a zombie, killed but not yet reaped, does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True
