"""Alerts of ``steward monitor``: signed webhook POSTs, with retries and a per-model cool-down.

**Signing**, exactly as MLflow 3's registry webhooks sign (``mlflow/webhooks/delivery.py``,
``_generate_hmac_signature``): ``v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`` with
the secret's UTF-8 bytes as the key, the delivery id a uuid4 and the timestamp Unix seconds. The
three values go out under MLflow's header names (``X-MLflow-Delivery-Id``, ``X-MLflow-Timestamp``,
``X-MLflow-Signature``) and under the Standard Webhooks names (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``), so a receiver written for MLflow's webhooks
verifies ours unchanged (:func:`verify_signature` is that check). The body is MLflow's envelope:
``{"entity", "action", "timestamp", "data"}`` with ``entity = "model_monitor"``.

**Delivery**: a timeout per attempt; on a connection error, 429 or 5xx, up to ``retries`` more
attempts after ``backoff_s * 2**k`` seconds (or the answer's ``Retry-After``, at most 60 s), with
the same delivery id. A delivery that fails is reported, never raised: the check's verdict and exit
code stand.

**Cool-down** (:func:`decide`): the last alert sent is kept on the registered model (a tag, see
``registry.read_alert_state``), so it holds across machines. The same alert is not sent again
within ``cooldown_hours`` unless it got worse: a worse state (performance over drift), a metric
or column that was not alarming before, or a severity ``worse_by`` (50%) above the last one.
When a model that alerted is healthy again, one ``resolved`` message is sent (``send_resolved``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mlflow_steward import names

SIGNATURE_VERSION = "v1"  # mlflow.webhooks.constants.WEBHOOK_SIGNATURE_VERSION
MLFLOW_ID_HEADER = "X-MLflow-Delivery-Id"  # mlflow.webhooks.constants
MLFLOW_TIMESTAMP_HEADER = "X-MLflow-Timestamp"
MLFLOW_SIGNATURE_HEADER = "X-MLflow-Signature"
ID_HEADER = "webhook-id"  # Standard Webhooks
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
ENTITY = "model_monitor"
ACTION_ALERT = "alert"
ACTION_RESOLVED = "resolved"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
WORSE_BY = 0.5
_RANK = {names.MONITOR_HEALTHY: 0, names.MONITOR_DRIFT: 1, names.MONITOR_PERFORMANCE: 2}


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """``v1,<base64>``: HMAC-SHA256 over ``"<delivery_id>.<timestamp>.<body>"`` (MLflow's scheme)."""
    digest = hmac.new(secret.encode("utf-8"), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('utf-8')}"


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes | str, *, tolerance_s: float = 300.0,
                     now: float | None = None) -> bool:  # fmt: skip
    """A receiver's check: the signature matches and the timestamp is recent (replay protection).
    Reads MLflow's or the Standard Webhooks header names (case-insensitive)."""
    lower = {k.lower(): v for k, v in headers.items()}
    delivery_id = lower.get(MLFLOW_ID_HEADER.lower()) or lower.get(ID_HEADER)
    timestamp = lower.get(MLFLOW_TIMESTAMP_HEADER.lower()) or lower.get(TIMESTAMP_HEADER)
    signature = lower.get(MLFLOW_SIGNATURE_HEADER.lower()) or lower.get(SIGNATURE_HEADER)
    if not (delivery_id and timestamp and signature):
        return False
    try:
        if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_s:
            return False
    except ValueError:
        return False
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    expected = sign(secret, delivery_id, timestamp, text)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(" "))


@dataclass(frozen=True)
class Alert:
    """What one monitor run tells the webhooks."""

    model: str
    version: str
    state: str  # performance | drift | healthy (a resolved message)
    window_start: str | None
    window_end: str | None
    summary: str
    items: tuple[str, ...]  # what alarmed: "live/rmse", "drift/median_income", ...
    severity: float
    run_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return ACTION_RESOLVED if self.state == names.MONITOR_HEALTHY else ACTION_ALERT

    def payload(self, *, reason: str = "") -> dict[str, Any]:
        """MLflow's webhook envelope around the alert."""
        data = {"model_name": self.model, "model_version": self.version, "state": self.state,
                "window_start": self.window_start, "window_end": self.window_end, "summary": self.summary,
                "items": list(self.items), "severity": self.severity, "run_id": self.run_id, "reason": reason,
                **dict(self.details)}  # fmt: skip
        return {"entity": ENTITY, "action": self.action, "timestamp": datetime.now(timezone.utc).isoformat(), "data": data}

    def state_record(self, sent_at: float) -> dict[str, Any]:
        """What the registered model's tag keeps of a sent alert."""
        return {"state": self.state, "items": list(self.items), "severity": self.severity, "sent_at": sent_at,
                "window_end": self.window_end, "version": self.version, "summary": self.summary[:500]}  # fmt: skip


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str


def decide(alert: Alert, previous: Mapping[str, Any] | None, *, now: float, cooldown_hours: float,
           send_resolved: bool = True, worse_by: float = WORSE_BY) -> Decision:  # fmt: skip
    """Whether to send ``alert`` given the last one sent (see the module docstring)."""
    was = (previous or {}).get("state", names.MONITOR_HEALTHY)
    if alert.state == names.MONITOR_HEALTHY:
        if was != names.MONITOR_HEALTHY and send_resolved:
            return Decision(True, f"healthy again after {was}")
        return Decision(False, "healthy")
    if previous is None or was == names.MONITOR_HEALTHY:
        return Decision(True, f"new {alert.state} alert")
    elapsed_h = (now - float(previous.get("sent_at", 0.0))) / 3600.0
    if elapsed_h >= cooldown_hours:
        return Decision(True, f"still {alert.state} after the {cooldown_hours:g} h cool-down")
    if _RANK.get(alert.state, 0) > _RANK.get(was, 0):
        return Decision(True, f"worse: {was} -> {alert.state}")
    new_items = sorted(set(alert.items) - set(previous.get("items", [])))
    if new_items:
        return Decision(True, f"worse: newly alarming {', '.join(new_items[:5])}")
    last = float(previous.get("severity", 0.0) or 0.0)
    if alert.severity > last * (1.0 + worse_by) and alert.severity > last:
        return Decision(True, f"worse: severity {alert.severity:.3g} (was {last:.3g})")
    remaining = cooldown_hours - elapsed_h
    return Decision(False, f"same {alert.state} alert sent {elapsed_h:.1f} h ago; cool-down for {remaining:.1f} h more")


@dataclass(frozen=True)
class Delivery:
    """The outcome of POSTing one alert to one URL."""

    url: str
    ok: bool
    status: int | None
    attempts: int
    delivery_id: str
    error: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"alert delivered to {self.url} (HTTP {self.status}, {self.attempts} attempt(s))"
        return f"alert NOT delivered to {self.url} after {self.attempts} attempt(s): {self.error}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value)))
    except ValueError:
        return None


def deliver(
    url: str,
    payload: Mapping[str, Any],
    *,
    secret: str | None,
    timeout_s: float = 10.0,
    retries: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``payload`` to ``url`` (signed when ``secret``), retrying as the module docstring says."""
    import requests

    body = json.dumps(payload)
    delivery_id, timestamp = str(uuid.uuid4()), str(int(time.time()))
    headers = {"Content-Type": "application/json", MLFLOW_ID_HEADER: delivery_id, MLFLOW_TIMESTAMP_HEADER: timestamp,
               ID_HEADER: delivery_id, TIMESTAMP_HEADER: timestamp}  # fmt: skip
    if secret:
        headers[MLFLOW_SIGNATURE_HEADER] = headers[SIGNATURE_HEADER] = sign(secret, delivery_id, timestamp, body)
    status, error, attempts = None, "", 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        wait = backoff_s * 2**attempt
        try:
            response = requests.post(url, data=body.encode("utf-8"), headers=headers, timeout=timeout_s)
        except requests.RequestException as exc:
            status, error = None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        else:
            status = response.status_code
            if 200 <= status < 300:
                return Delivery(url, True, status, attempts, delivery_id)
            error = f"HTTP {status}: {response.text[:200]!r}"
            if status not in RETRY_STATUSES:
                break
            after = _retry_after(response.headers.get("Retry-After"))
            wait = wait if after is None else after
        if attempt < retries:
            sleep(wait)
    return Delivery(url, False, status, attempts, delivery_id, error)


@dataclass(frozen=True)
class AlertOutcome:
    """What the alert step did: the decision, and one delivery per URL when it sent."""

    alert: Alert | None
    decision: Decision
    deliveries: tuple[Delivery, ...] = ()
    state_error: str = ""

    def lines(self) -> list[str]:
        if self.alert is None:
            return []
        if not self.deliveries:
            return [f"alert not sent: {self.decision.reason}"]
        out = [f"alert ({self.alert.action}, {self.decision.reason}):"] + [f"  {d.describe()}" for d in self.deliveries]
        if self.state_error:
            out.append(f"  alert state not recorded on the registered model: {self.state_error}")
        return out


def send_alert(
    alert: Alert,
    *,
    webhooks: Sequence[str],
    secret: str | None,
    config: Any,
    read_state: Callable[[], Mapping[str, Any] | None],
    write_state: Callable[[dict[str, Any]], None],
    now: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertOutcome:
    """Decide against the stored state, deliver to every URL, record the state when any delivery
    got through. Never raises for a delivery or a state write that fails."""
    now = time.time() if now is None else now
    if not webhooks:
        return AlertOutcome(None, Decision(False, "no webhooks"))
    try:
        previous = read_state()
    except Exception as exc:  # the registry is unreachable: alert rather than stay silent
        previous = None
        state_note = f"could not read the last alert ({type(exc).__name__}: {exc})"
    else:
        state_note = ""
    decision = decide(alert, previous, now=now, cooldown_hours=config.cooldown_hours, send_resolved=config.send_resolved)
    if not decision.send:
        return AlertOutcome(alert, decision)
    payload = alert.payload(reason=decision.reason)
    deliveries = tuple(
        deliver(url, payload, secret=secret, timeout_s=config.timeout_s, retries=config.retries,
                backoff_s=config.backoff_s, sleep=sleep)  # fmt: skip
        for url in webhooks
    )
    error = state_note
    if any(d.ok for d in deliveries):
        try:
            write_state(alert.state_record(now))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    return AlertOutcome(alert, decision, deliveries, error)
