"""The monitor's alert state of a registered model (issue 14): the last alert sent, as a registered-model
tag, so the alert cool-down holds for ``steward monitor`` run from cron on any machine.

The state is JSON (``steward.alert_state``): what was alerted (state, items, severity), when, and for
which window. Monitoring decides; this module only reads and writes the tag (every registry write
goes through ``registry``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.registry._client import get_client, get_model

if TYPE_CHECKING:
    from mlflow import MlflowClient

MAX_CHARS = 5000


def read_alert_state(name: str, *, client: MlflowClient | None = None) -> dict[str, Any] | None:
    """The last alert state of ``name`` (None when it never alerted, or the tag is unreadable)."""
    model = get_model(get_client(client), name)
    text = (model.tags or {}).get(names.TAG_ALERT_STATE)
    if not text:
        return None
    try:
        state = json.loads(text)
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def write_alert_state(name: str, state: dict[str, Any] | None, *, client: MlflowClient | None = None) -> None:
    """Record ``state`` (JSON, cut to what a tag holds) on the registered model; None clears it."""
    client = get_client(client)
    if state is None:
        client.delete_registered_model_tag(name, names.TAG_ALERT_STATE)
        return
    text = json.dumps(state, sort_keys=True)
    if len(text) > MAX_CHARS:  # keep it valid JSON: fewer items, no summary
        state = {k: v for k, v in state.items() if k != "summary"}
        state["items"] = [str(item)[:100] for item in list(state.get("items", []))[:20]]
        text = json.dumps(state, sort_keys=True)
    client.set_registered_model_tag(name, names.TAG_ALERT_STATE, text)
