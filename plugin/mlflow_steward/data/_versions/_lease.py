"""A lock held in the tracking store itself: a lease written as a tag of the dataset's experiment.

The same protocol as the registry's promotion lock (``registry/_lock.py``), on an experiment tag
instead of a registered-model tag, so it works across machines through ``mlflow server`` on any
backend. The dataset is a leaf below the registry, so it cannot borrow the registry's class; the
protocol is mirrored here:

    {"token": "<uuid4>", "owner": "user@host pid 123", "host": ..., "pid": ..., "pidns": ...,
     "purpose": ..., "acquired": <unix time>, "expires": <unix time>}

Acquire = read the tag; if it is absent, expired, or its owner process is known to be gone (same
host and PID namespace, no such pid), delete it and write ours with a fresh token; wait ``settle``
seconds; read it back: only if our token is still there do we hold it. On SQL stores the write of
a missing tag is an INSERT guarded by the table's primary key, so of several processes that find
the lock free at once exactly one insert succeeds. :meth:`Lease.verify` re-reads the tag before the
write that matters; release deletes the tag only while it still holds our token.

Long holders (a retrain takes minutes) pass ``heartbeat``: a daemon thread extends ``expires``
every ``heartbeat`` seconds while the process lives. A killed holder stops renewing: the lease is
broken at once from the same machine (the pid is gone) and from elsewhere once it expires.
Limits: the same as the registry lock's (no compare-and-set; wall clocks compared across machines).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward.data._versions import _messages as msg
from mlflow_steward._process import ProcessId, whoami
from mlflow_steward.exceptions import StewardInputError, StewardLockError

if TYPE_CHECKING:
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)

DEFAULT_TTL = 120.0
DEFAULT_WAIT = 60.0
DEFAULT_SETTLE = 0.5
_POLL = 0.25


@dataclass(frozen=True)
class LeaseInfo:
    """The parsed value of a lease tag."""

    token: str
    owner: str
    purpose: str
    acquired: float
    expires: float
    process: ProcessId | None = None

    @classmethod
    def parse(cls, text: str | None) -> LeaseInfo | None:
        """None for an absent or unreadable tag (an unreadable lease counts as free)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                token=str(data["token"]), owner=str(data.get("owner", "unknown owner")),
                purpose=str(data.get("purpose", "")), acquired=float(data.get("acquired", 0.0)),
                expires=float(data["expires"]), process=ProcessId.from_dict(data),
            )
        except (ValueError, KeyError, TypeError):
            _logger.warning("ignoring an unreadable lease tag: %r", text[:200])
            return None

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires

    def owner_gone(self) -> bool:
        return self.process is not None and self.process.is_gone()

    def expires_text(self) -> str:
        return _dt.datetime.fromtimestamp(self.expires, _dt.timezone.utc).isoformat(timespec="seconds")


def read_lease(client: MlflowClient, experiment_id: str, key: str) -> LeaseInfo | None:
    return LeaseInfo.parse(client.get_experiment(experiment_id).tags.get(key))


class Lease:
    """Context manager holding the lease tag ``key`` of experiment ``experiment_id``.

    ``label`` names the dataset in messages. ``on_break(info, why)`` is called when a dead or
    expired holder's lease is taken over (the caller records it). Raises
    :class:`~mlflow_steward.exceptions.StewardLockError` after ``wait`` seconds of a held lease.
    """

    def __init__(
        self,
        client: MlflowClient,
        experiment_id: str,
        *,
        key: str,
        label: str,
        purpose: str,
        ttl: float = DEFAULT_TTL,
        wait: float = DEFAULT_WAIT,
        settle: float = DEFAULT_SETTLE,
        heartbeat: float | None = None,
        on_break: Callable[[LeaseInfo, str], None] | None = None,
    ) -> None:
        for name, value, positive in (("ttl", ttl, True), ("wait", wait, False), ("settle", settle, False)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
                raise StewardInputError(msg.LOCK_BAD_TIMING.format(key=name, value=value))
        self.client = client
        self.experiment_id = experiment_id
        self.key = key
        self.label = label
        self.purpose = purpose
        self.ttl, self.wait, self.settle = float(ttl), float(wait), float(settle)
        self.heartbeat = heartbeat
        self.on_break = on_break
        self.token = uuid.uuid4().hex
        self.process = ProcessId.current()
        self.owner = f"{whoami()} pid {self.process.pid}"
        self.acquired = False
        self.broken: list[tuple[LeaseInfo, str]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False

    # --- protocol ---------------------------------------------------------------------------
    def _payload(self, acquired: float | None = None) -> str:
        now = time.time()
        return json.dumps({
            "token": self.token, "owner": self.owner, **self.process.to_dict(), "purpose": self.purpose,
            "acquired": now if acquired is None else acquired, "expires": now + self.ttl,
        })

    def _read(self) -> LeaseInfo | None:
        return read_lease(self.client, self.experiment_id, self.key)

    def _delete(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.delete_experiment_tag(self.experiment_id, self.key)
        except MlflowException as exc:  # already gone: a competitor cleared it first
            _logger.debug("lease %s of %s already gone: %s", self.key, self.label, exc)

    def try_acquire(self) -> LeaseInfo | None:
        """One attempt: None when we hold the lease now, else the lease in the way."""
        from mlflow.exceptions import MlflowException

        current = self._read()
        if current is not None and current.token != self.token:
            why = "its owner process is gone" if current.owner_gone() else ("it expired" if current.expired() else None)
            if why is None:
                return current
            _logger.warning("taking over the lease %s of %r held by %s: %s", self.key, self.label, current.owner, why)
            self._delete()
            self.broken.append((current, why))
            if self.on_break is not None:
                self.on_break(current, why)
        try:
            self.client.set_experiment_tag(self.experiment_id, self.key, self._payload())
        except MlflowException:
            after = self._read()
            if after is not None and after.token != self.token:
                return after  # a competitor's insert won the primary key
            raise
        time.sleep(self.settle)
        after = self._read()
        if after is not None and after.token == self.token:
            self.acquired = True
            self._acquired_at = after.acquired
            return None
        if after is None:  # deleted under us: retry
            now = time.time()
            return LeaseInfo(token="", owner="a competitor", purpose="", acquired=now, expires=now)
        return after

    def acquire(self) -> Lease:
        deadline = time.monotonic() + self.wait
        while True:
            blocking = self.try_acquire()
            if blocking is None:
                self._start_heartbeat()
                return self
            if time.monotonic() >= deadline:
                raise StewardLockError(
                    msg.LOCK_HELD.format(name=self.label, owner=blocking.owner, expires=blocking.expires_text(),
                                         purpose=blocking.purpose or "no purpose given")
                )
            time.sleep(_POLL + (uuid.uuid4().int % 100) / 1000.0)

    def verify(self) -> None:
        """Raise unless the tag still holds our token and has not expired."""
        current = self._read()
        if self._lost or current is None or current.token != self.token or current.expired():
            owner = current.owner if current is not None and current.token != self.token else "nobody (expired)"
            raise StewardLockError(msg.LOCK_LOST.format(name=self.label, owner=owner))

    def release(self) -> None:
        self._stop_heartbeat()
        if not self.acquired:
            return
        self.acquired = False
        current = self._read()
        if current is not None and current.token == self.token:
            self._delete()

    # --- heartbeat ----------------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        if not self.heartbeat:
            return
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{self.key}", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                current = self._read()
                if current is None or current.token != self.token:
                    self._lost = True
                    _logger.warning("lost the lease %s of %r to %s", self.key, self.label,
                                    current.owner if current else "nobody")
                    return
                self.client.set_experiment_tag(self.experiment_id, self.key, self._payload(self._acquired_at))
            except Exception as exc:  # a hiccup of the tracking server: try again next beat
                _logger.warning("could not renew the lease %s of %r: %s", self.key, self.label, exc)

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.release()
        except Exception as exc:  # never mask the original error; the lease expires anyway
            _logger.warning("could not release the lease %s of %r: %s (it expires by itself)", self.key, self.label, exc)
