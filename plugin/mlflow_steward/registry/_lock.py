"""A promotion lock kept in the registry itself: the registered-model tag ``steward.lock``.

MLflow has no compare-and-set: an alias write or a tag write is a plain overwrite. To serialise
promotions and rollbacks across processes *and machines* (anything that reaches the same tracking
server), the lock is a lease written as a tag::

    {"token": "<uuid4>", "owner": "user@host pid 123", "host": ..., "pid": ..., "pidns": ...,
     "purpose": ..., "acquired": <unix time>, "expires": <unix time>}

Acquire = read the tag; if it is absent, expired, or unreadable, write ours with a fresh random
token; sleep ``settle`` seconds; read it back. Only if our token is still there do we own it
(a competitor who wrote after us overwrote our token, so we back off). Before the one write that
matters (the ``production`` alias), :meth:`RegistryLock.verify` reads the tag again. Release deletes
the tag only when it still holds our token.

On a SQL-backed store (SQLite, PostgreSQL, MySQL, directly or behind ``mlflow server``), writing
a tag that does not exist yet is an INSERT guarded by the table's unique key: of several processes
that find the lock free at once, exactly one insert succeeds and the others get an error, which
counts as "held". That is why release deletes the tag and an expired lock is deleted before it is
taken over: acquiring goes through the insert whenever it can. Overwriting a tag that exists is a
plain UPDATE with no such guard, which is where the read-back below earns its keep.

Known limits, honestly:

* Apart from the insert above, the check is read-then-write with no atomicity (a file store, an
  unreadable tag that gets overwritten, an expired tag deleted by two competitors at once, each
  then writing). If a competitor read "free" *before* our write but writes *after* our read-back
  (its read→write gap exceeds ``settle``: a long GC pause, a stalled network), both believe they
  own the lock. The final :meth:`verify` catches the usual
  interleavings (the earlier owner sees the later token and aborts); in the worst case both
  verifications pass, and then the ``production`` re-check of the caller is the last line of
  defence. A larger ``settle`` shrinks the window; it never closes it. A store with
  compare-and-set (a database row lock) would be needed for a strict guarantee.
* Expiry compares wall clocks of different machines: keep them in sync (NTP). A holder that runs
  longer than ``ttl`` loses its lease silently; the promotion holds the lock only for its writes
  (seconds), not while scoring, so the default ``ttl`` of 120 s is generous.
* Release reads, then deletes: if our lease expired and a competitor took it in between, we delete
  theirs. The same short-window caveat applies.
* A killed holder leaves the tag behind. When the holder ran on this machine (same host name and
  PID namespace) and its pid is gone, the next caller breaks the lock at once; otherwise it waits
  until ``expires`` and takes it over then. Either way the take-over is recorded in the production
  history (action ``break lock``, naming the old owner and why).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, StewardLockError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import get_model
from mlflow_steward.registry._history import ACTION_BREAK_LOCK, append_event
from mlflow_steward._process import ProcessId, whoami

if TYPE_CHECKING:
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)

DEFAULT_TTL = 120.0  # seconds a lease lasts
DEFAULT_WAIT = 30.0  # seconds to wait for a held lock before giving up
DEFAULT_SETTLE = 0.5  # seconds between writing our token and reading it back
_POLL = 0.25


@dataclass(frozen=True)
class LockInfo:
    """The parsed value of the ``steward.lock`` tag."""

    token: str
    owner: str
    purpose: str
    acquired: float
    expires: float
    holder: ProcessId | None = None  # host, pid and PID namespace of the owner's process

    @classmethod
    def parse(cls, text: str | None) -> LockInfo | None:
        """None for an absent or unreadable tag (an unreadable lock is treated as free)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                token=str(data["token"]),
                owner=str(data.get("owner", "unknown owner")),
                purpose=str(data.get("purpose", "")),
                acquired=float(data.get("acquired", 0.0)),
                expires=float(data["expires"]),
                holder=ProcessId.from_dict(data),
            )
        except (ValueError, KeyError, TypeError):
            _logger.warning("ignoring an unreadable %s tag: %r", names.TAG_LOCK, text[:200])
            return None

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires

    def owner_gone(self) -> bool:
        """True when the owner's process ran on this machine and has ended (see ``ProcessId``)."""
        return self.holder is not None and self.holder.is_gone()

    def stale_reason(self) -> str | None:
        """Why this lock may be taken over (owner gone, lease expired), or None while it holds."""
        if self.owner_gone():
            return f"its owner's process ({self.holder}) is gone"
        if self.expired():
            return f"its lease expired at {self.expires_text()}"
        return None

    def expires_text(self) -> str:
        return _dt.datetime.fromtimestamp(self.expires, _dt.timezone.utc).isoformat(timespec="seconds")

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "owner": self.owner,
            "purpose": self.purpose,
            "acquired": self.acquired,
            "expires": self.expires,
            "expires_utc": self.expires_text(),
        }



def read_lock(client: MlflowClient, name: str) -> LockInfo | None:
    """The current lock of registered model ``name`` (None when free or unreadable)."""
    return LockInfo.parse(get_model(client, name).tags.get(names.TAG_LOCK))


class RegistryLock:
    """Context manager holding registered model ``name``'s lock; see the module docstring.

    ``wait`` seconds are spent polling a lock held by someone else before raising
    :class:`~mlflow_steward.exceptions.StewardLockError` naming its owner and expiry.
    """

    def __init__(
        self,
        client: MlflowClient,
        name: str,
        *,
        purpose: str,
        ttl: float = DEFAULT_TTL,
        wait: float = DEFAULT_WAIT,
        settle: float = DEFAULT_SETTLE,
        run_id: str | None = None,
    ) -> None:
        for key, value, positive in (("ttl", ttl, True), ("wait", wait, False), ("settle", settle, False)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                positive and value == 0
            ):
                raise StewardInputError(msg.LOCK_BAD_TIMING.format(key=key, value=value))
        self.client = client
        self.name = name
        self.purpose = purpose
        self.ttl = float(ttl)
        self.wait = float(wait)
        self.settle = float(settle)
        self.token = uuid.uuid4().hex
        self.owner = f"{whoami()} pid {os.getpid()}"
        self.acquired = False
        self.run_id = run_id  # the gate or rollback run, named in a lock-break history entry
        self.broken: tuple[LockInfo, str] | None = None  # the stale lock we took over, and why

    # --- protocol -----------------------------------------------------------------------------
    def _payload(self) -> str:
        now = time.time()
        return json.dumps(
            {
                "token": self.token,
                "owner": self.owner,
                **ProcessId.current().to_dict(),
                "purpose": self.purpose,
                "acquired": now,
                "expires": now + self.ttl,
            }
        )

    def try_acquire(self) -> LockInfo | None:
        """One attempt. Returns None when we own the lock, else the lock that is in the way."""
        from mlflow.exceptions import MlflowException

        current = read_lock(self.client, self.name)
        self.broken = None
        if current is not None and current.token != self.token:
            why = current.stale_reason()
            if why is None:
                return current
            _logger.warning("taking over the lock of %r held by %s: %s", self.name, current.owner, why)
            self.broken = (current, why)
            self._delete_tag()  # so that our write below is an insert (see the module docstring)
        try:
            self.client.set_registered_model_tag(self.name, names.TAG_LOCK, self._payload())
        except MlflowException:
            after = read_lock(self.client, self.name)
            if after is not None and after.token != self.token:
                return after  # a competitor's insert won the table's unique key
            raise
        time.sleep(self.settle)
        after = read_lock(self.client, self.name)
        if after is not None and after.token == self.token:
            self.acquired = True
            return None
        if after is None:  # deleted under us (a competitor taking over or releasing): retry
            now = time.time()
            return LockInfo(token="", owner="a competitor", purpose="", acquired=now, expires=now)
        return after

    def _delete_tag(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.delete_registered_model_tag(self.name, names.TAG_LOCK)
        except MlflowException as exc:  # already gone: a competitor cleared it first
            _logger.debug("lock tag of %r already gone: %s", self.name, exc)

    def acquire(self) -> RegistryLock:
        """Acquire, polling up to ``wait`` seconds; raise StewardLockError naming the holder."""
        deadline = time.monotonic() + self.wait
        while True:
            blocking = self.try_acquire()
            if blocking is None:
                self._record_break()
                return self
            if time.monotonic() >= deadline:
                raise StewardLockError(
                    msg.LOCK_HELD.format(
                        name=self.name,
                        owner=blocking.owner,
                        expires=blocking.expires_text(),
                        purpose=blocking.purpose or "no purpose given",
                    )
                )
            time.sleep(_POLL + (uuid.uuid4().int % 100) / 1000.0)  # jitter against lockstep

    def _record_break(self) -> None:
        """A lock we took over goes into the production history (best effort: we hold the lock)."""
        if self.broken is None:
            return
        info, why = self.broken
        reason = f"took over the lock of {info.owner} ({info.purpose or 'no purpose given'}): {why}"
        try:
            append_event(self.client, self.name, action=ACTION_BREAK_LOCK, by=whoami(), reason=reason, run_id=self.run_id)
        except Exception as exc:  # the break itself stands; only its record is missing
            _logger.warning("could not record the lock break of %r in the history: %s", self.name, exc)

    def verify(self) -> None:
        """Raise StewardLockError unless the tag still holds our token and has not expired."""
        current = read_lock(self.client, self.name)
        if current is None or current.token != self.token or current.expired():
            owner = current.owner if current is not None and current.token != self.token else "nobody (expired)"
            raise StewardLockError(msg.LOCK_LOST.format(name=self.name, owner=owner))

    def release(self) -> None:
        """Delete the tag if it still holds our token (never someone else's lock)."""
        if not self.acquired:
            return
        self.acquired = False
        current = read_lock(self.client, self.name)
        if current is not None and current.token == self.token:
            self.client.delete_registered_model_tag(self.name, names.TAG_LOCK)

    def __enter__(self) -> RegistryLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.release()
        except Exception as exc:  # never mask the original error; the lease expires anyway
            _logger.warning("could not release the lock of %r: %s (it expires by itself)", self.name, exc)
