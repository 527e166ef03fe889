"""``docs/grafana-dashboard.json``: every PromQL query names metrics we export, and only those.

The exported names are the registries in the code: serving's ``/metrics`` (``serving._metrics.METRICS``)
and the Pushgateway push of ``steward monitor`` (``monitoring.PUSHED_METRICS``). The e2e Prometheus
test also runs every query against a real Prometheus (they must parse and evaluate).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlflow_steward.monitoring import PUSHED_METRICS
from mlflow_steward.serving._metrics import exported_names

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"

#: PromQL functions, aggregations and keywords (everything else that looks like a name is a metric).
PROMQL_WORDS = frozenset({
    "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar", "group",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "time", "vector", "scalar",
    "abs", "clamp_min", "clamp_max", "label_values", "label_replace", "absent", "by", "without", "on",
    "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
})  # fmt: skip


def queries(dashboard: dict) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets (rows' panels too) and variable queries."""
    found = []

    def walk(panels):
        for panel in panels:
            found.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if query:
            found.append(query)
    return found


def metric_names(expression: str) -> set[str]:
    """The metric names an expression reads (label matchers, grouping labels, ranges, strings removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expression)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", " ", text)
    text = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)", r" \1 ", text)
    words = set(re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", text))
    return {w for w in words if w not in PROMQL_WORDS}


def test_every_query_names_only_metrics_we_export():
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_names() | set(PUSHED_METRICS)
    expressions = queries(dashboard)
    assert len(expressions) >= 15
    used = set()
    for expression in expressions:
        names = metric_names(expression)
        assert names, f"no metric in {expression!r}"
        assert names <= exported, f"{expression!r} reads {sorted(names - exported)}, which we do not export"
        used |= names
    assert {"steward_requests_total", "steward_rows_scored_total", "steward_request_duration_seconds_bucket",
            "steward_monitor_live_metric", "steward_monitor_drift_score"} <= used  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('sum by (reason) (rate(steward_requests_rejected_total{reason="x"}[5m]))', {"steward_requests_rejected_total"}),
        ("histogram_quantile(0.9, sum by (le) (rate(a_bucket[$__rate_interval])))", {"a_bucket"}),
        ("label_values(steward_monitor_state, model)", {"steward_monitor_state"}),
        ("(time() - max by (model) (x_seconds)) / 3600", {"x_seconds"}),
    ],
)
def test_the_checker_finds_metric_names(expression, expected):
    assert metric_names(expression) == expected


def test_the_checker_rejects_an_unknown_metric():
    exported = exported_names() | set(PUSHED_METRICS)
    assert not metric_names("sum(rate(steward_requests_totl[5m]))") <= exported
