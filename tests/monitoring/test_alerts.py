"""Webhook alerts: MLflow's signature exactly, verification, retries with backoff on 5xx/429 against a
local HTTP server, a failed delivery reported not raised, the cool-down decisions."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlflow_steward import names
from mlflow_steward.monitoring import Alert, AlertConfig, deliver, sign, verify_signature
from mlflow_steward.monitoring._alerts import decide, send_alert

SECRET = "s3cret-for-tests"


class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST with the next status of ``statuses``."""

    def __init__(self, statuses=(200,)) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k: v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_signature_is_mlflows_and_verifies():
    from mlflow.webhooks.delivery import _generate_hmac_signature

    body = json.dumps({"entity": "model_monitor", "data": {"x": 1}})
    assert sign(SECRET, "id-1", "1700000000", body) == _generate_hmac_signature(SECRET, "id-1", "1700000000", body)
    headers = {"webhook-id": "id-1", "webhook-timestamp": "1700000000", "webhook-signature": sign(SECRET, "id-1", "1700000000", body)}
    assert verify_signature(SECRET, headers, body, now=1700000010)
    assert not verify_signature("other", headers, body, now=1700000010)
    assert not verify_signature(SECRET, headers, body + " ", now=1700000010)
    assert not verify_signature(SECRET, headers, body, now=1700009999)  # too old: replay protection


def test_delivery_retries_5xx_and_429_then_succeeds_with_one_signed_id():
    waits = []
    with Receiver([503, 429, 200]) as receiver:
        result = deliver(receiver.url, {"entity": "model_monitor"}, secret=SECRET, retries=3, backoff_s=0.5,
                         sleep=waits.append)  # fmt: skip
    assert result.ok and result.attempts == 3 and result.status == 200
    assert waits == [0.5, 0.0]  # backoff, then the answer's Retry-After
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(ids) == 1  # the same delivery id on every attempt
    for headers, body in receiver.received:
        assert verify_signature(SECRET, headers, body)
        assert headers["X-MLflow-Signature"] == headers["webhook-signature"]


def test_failed_delivery_is_reported_not_raised():
    with Receiver([500]) as receiver:
        result = deliver(receiver.url, {"a": 1}, secret=None, retries=2, backoff_s=0.0, sleep=lambda s: None)
    assert not result.ok and result.attempts == 3 and "HTTP 500" in result.error
    assert "webhook-signature" not in receiver.received[0][0]  # no secret: unsigned
    refused = deliver("http://127.0.0.1:9/none", {"a": 1}, secret=SECRET, retries=1, backoff_s=0.0, timeout_s=2,
                      sleep=lambda s: None)  # fmt: skip
    assert not refused.ok and refused.status is None and "NOT delivered" in refused.describe()
    with Receiver([404]) as receiver:  # a 4xx other than 429 is not retried
        assert deliver(receiver.url, {}, secret=None, retries=3, sleep=lambda s: None).attempts == 1


def _alert(state=names.MONITOR_PERFORMANCE, items=("live/rmse",), severity=0.3) -> Alert:
    return Alert("house", "1", state, "2026-03-02T00:00:00+00:00", "2026-03-03T00:00:00+00:00", "rmse worse",
                 tuple(items), severity)  # fmt: skip


def test_cooldown_decisions():
    sent = _alert().state_record(sent_at=1000.0)
    hour = 3600.0
    assert decide(_alert(), None, now=0, cooldown_hours=24).send
    assert not decide(_alert(), sent, now=1000 + 2 * hour, cooldown_hours=24).send  # same alert, within cool-down
    assert decide(_alert(), sent, now=1000 + 25 * hour, cooldown_hours=24).send  # cool-down over
    assert decide(_alert(items=("live/rmse", "live/mae")), sent, now=1000 + hour, cooldown_hours=24).send  # new item
    assert decide(_alert(severity=0.6), sent, now=1000 + hour, cooldown_hours=24).send  # got worse
    assert not decide(_alert(severity=0.35), sent, now=1000 + hour, cooldown_hours=24).send
    drift = _alert(state=names.MONITOR_DRIFT, items=("drift/x",)).state_record(1000.0)
    assert decide(_alert(), drift, now=1000 + hour, cooldown_hours=24).send  # drift -> performance
    healthy = _alert(state=names.MONITOR_HEALTHY, items=())
    assert decide(healthy, sent, now=1000 + hour, cooldown_hours=24).reason.startswith("healthy again")
    assert not decide(healthy, None, now=0, cooldown_hours=24).send


def test_send_alert_records_state_only_after_a_delivery_got_through():
    stored = {}
    config = AlertConfig(retries=0, backoff_s=0.0)
    with Receiver([200]) as receiver:
        first = send_alert(_alert(), webhooks=[receiver.url], secret=SECRET, config=config,
                           read_state=lambda: stored.get("s"), write_state=lambda s: stored.update(s=s), now=1000.0)  # fmt: skip
        second = send_alert(_alert(), webhooks=[receiver.url], secret=SECRET, config=config,
                            read_state=lambda: stored.get("s"), write_state=lambda s: stored.update(s=s), now=2000.0)  # fmt: skip
    assert first.deliveries[0].ok and not second.deliveries and "cool-down" in second.decision.reason
    assert len(receiver.received) == 1
    payload = json.loads(receiver.received[0][1])
    assert payload["entity"] == "model_monitor" and payload["action"] == "alert"
    assert payload["data"]["model_name"] == "house" and payload["data"]["items"] == ["live/rmse"]
    with Receiver([500]) as receiver:
        failed = send_alert(_alert(), webhooks=[receiver.url], secret=SECRET, config=config, read_state=lambda: None,
                            write_state=lambda s: pytest.fail("nothing delivered: no state"), now=0.0)  # fmt: skip
    assert not failed.deliveries[0].ok and "NOT delivered" in "\n".join(failed.lines())
