"""What the registry knows, read through MlflowClient: models, versions, history, gate runs.

The model page's versions, history and notes come from :func:`mlflow_steward.registry.status`, the
same reader ``steward status`` prints, so the page and the CLI show the same numbers. Gate runs are
found with one ``search_runs`` filter per model (newest first, bounded), never one call per version.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any, Iterable

from mlflow_steward import names
from mlflow_steward._paging import every_page
from mlflow_steward.app._records import (
    GateDetail,
    GateRowView,
    GateSummary,
    Move,
    Point,
    VersionBrief,
    VersionRow,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run
    from mlflow.entities.model_registry import RegisteredModel

    from mlflow_steward.app._cache import RunCache
    from mlflow_steward.registry import StatusReport

_logger = logging.getLogger(__name__)
_PAGE = 1000
_NUMBER = r"[-+]?(?:[0-9][0-9,]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?|inf|nan)"
_METRIC_TEXT = re.compile(rf"^\s*({_NUMBER})\s*(?:\[\s*({_NUMBER})\s*,\s+({_NUMBER})\s*\])?\s*$")


def quote(value: str) -> str:
    """A value inside a single-quoted MLflow filter string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def key_metric(task: str, fallback: str = "") -> str:
    """The metric the gate compares by default for ``task`` (``registry.DEFAULT_METRIC``)."""
    from mlflow_steward.registry import DEFAULT_METRIC

    return DEFAULT_METRIC.get(task, fallback)


def parse_metric_text(text: str | None) -> Point | None:
    """``"49,100 [48,200, 50,100]"`` (a ``steward.metric.*`` tag) -> Point(49100, 48200, 50100)."""
    match = _METRIC_TEXT.match(text or "")
    if not match:
        return None
    value, low, high = (None if g is None else float(g.replace(",", "")) for g in match.groups())
    return Point(value, low, high)  # type: ignore[arg-type]


def registered_models(client: MlflowClient) -> list[RegisteredModel]:
    """Every registered model (prompts excluded by MLflow), paged."""
    return every_page(client.search_registered_models, max_results=_PAGE)


def experiment_ids(client: MlflowClient) -> list[str]:
    """Ids of every active experiment (gate runs live in their model's training experiment)."""
    return [e.experiment_id for e in every_page(client.search_experiments, max_results=_PAGE)]


def version_brief(client: MlflowClient, name: str, version: str | None, metric: str | None) -> VersionBrief | None:
    """Production or staging as the list shows it (one ``get_model_version`` call)."""
    if version is None:
        return None
    mv = client.get_model_version(name, str(version))
    tags = mv.tags or {}
    metric = metric or key_metric(tags.get(names.TAG_TASK, ""))
    return VersionBrief(
        version=str(mv.version), metric=metric, metric_text=tags.get(names.metric_tag(metric), ""),
        gate=tags.get(names.TAG_GATE, ""), run_id=mv.run_id,
    )


def task_of(client: MlflowClient, name: str, version: str | None) -> str:
    if version is None:
        return ""
    return (client.get_model_version(name, str(version)).tags or {}).get(names.TAG_TASK, "")


def gate_runs(
    client: MlflowClient, name: str, experiments: list[str], *, max_results: int, cache: RunCache | None = None
) -> list[Run]:
    """Gate runs of model ``name``, newest first (one search over the given experiments)."""
    if not experiments or max_results <= 0:
        return []
    where = (f"tags.`{names.TAG_STEP}` = '{names.STEP_GATE}' "
             f"AND tags.`{names.TAG_MODEL_NAME}` = '{quote(name)}'")

    def search(ended_since_ms: int | None, limit: int) -> list[Run]:
        clause = where if ended_since_ms is None else f"{where} AND attributes.end_time >= {ended_since_ms}"
        return list(client.search_runs(experiment_ids=experiments, filter_string=clause,
                                       order_by=["attributes.start_time DESC"], max_results=limit))

    if cache is None:
        return search(None, max_results)
    return list(reversed(cache.get(name, search, limit=max_results)))


def _point(metrics: dict[str, float], key: str) -> Point | None:
    if key not in metrics:
        return None
    return Point(metrics[key], metrics.get(names.ci_low(key)), metrics.get(names.ci_high(key)))


def gate_summary(run: Run) -> GateSummary:
    """A gate run's verdict and overall numbers, from its tags, params and metrics."""
    tags, metrics = run.data.tags, run.data.metrics
    metric = run.data.params.get("gate.resolved_metric", "")
    challenger, challenger_metric = None, ""
    for key in sorted(metrics):  # a first candidate: the threshold metric's interval
        if key.startswith("challenger/") and names.ci_low(key) in metrics:
            challenger, challenger_metric = _point(metrics, key), key[len("challenger/"):]
            break
    return GateSummary(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        version=tags.get(names.TAG_MODEL_VERSION, ""),
        champion_version=tags.get(names.TAG_CHAMPION_VERSION) or None,
        verdict=tags.get(names.TAG_GATE, ""),
        status=run.info.status,
        started=(run.info.start_time or 0) / 1000.0,
        metric=metric,
        difference=_point(metrics, f"difference/{metric}") if metric else None,
        challenger=challenger,
        challenger_metric=challenger_metric,
    )


def gate_detail(client: MlflowClient, run: Run) -> GateDetail:
    """The full decision of a gate run (``gate/decision.json``); ``error`` says why it is missing."""
    from mlflow_steward.app._server_client import read_artifact_text

    summary = gate_summary(run)
    try:
        data = json.loads(read_artifact_text(client, run.info.artifact_uri, names.ARTIFACT_GATE_DECISION))
    except Exception as exc:  # a failed gate run may have no decision; the page says so
        _logger.info("no readable %s in run %s: %s", names.ARTIFACT_GATE_DECISION, run.info.run_id, exc)
        return GateDetail(summary, (), (), None, 0, "", "", False, error=f"no readable {names.ARTIFACT_GATE_DECISION}")
    return decision_detail(summary, data)


def decision_detail(summary: GateSummary, data: dict[str, Any]) -> GateDetail:
    """A GateDetail from the JSON of ``GateDecision.to_dict``; the forest plot is the registry's."""
    from mlflow_steward.registry import Check, Estimate, GateDecision, GateRow, forest_record

    rows = []
    for r in data.get("rows") or []:
        difference = None
        if r.get("difference") is not None:
            difference = Estimate(float(r["difference"]), float(r["difference_low"]), float(r["difference_high"]))
        rows.append(GateRow(
            column=str(r.get("slice", "")), value=str(r.get("value", "")), n=int(r.get("n") or 0),
            challenger=r.get("challenger"), champion=r.get("champion"), difference=difference,
            p_value=r.get("p_value"), p_adjusted=r.get("p_adjusted"), margin=r.get("margin"),
            verdict=str(r.get("verdict", "")),
        ))
    checks = tuple(Check(str(c["name"]), bool(c["passed"]), str(c["detail"])) for c in data.get("checks") or [])
    decision = GateDecision(
        model_name=str(data.get("model_name", "")), version=str(data.get("version", "")),
        champion_version=data.get("champion_version"), task=str(data.get("task", "")),
        metric=str(data.get("metric", "")), greater_is_better=bool(data.get("greater_is_better")),
        checks=checks, rows=tuple(rows),
    )
    forest = forest_record(decision)
    views = tuple(
        GateRowView(
            column=r.column, value=r.value, n=r.n, champion=r.champion, challenger=r.challenger,
            difference=None if r.difference is None else Point(r.difference.estimate, r.difference.low, r.difference.high),
            p_adjusted=r.p_adjusted, verdict=r.verdict,
        )
        for r in rows
    )
    return GateDetail(
        summary=summary, checks=tuple((c.name, c.passed, c.detail) for c in checks), rows=views, forest=forest,
        n_rows=int(data.get("n_rows") or 0), test_source=str(data.get("test_source", "")),
        decided_at=str(data.get("decided_at", "")), greater_is_better=bool(data.get("greater_is_better")),
    )


def registry_status(client: MlflowClient, name: str) -> StatusReport:
    """``steward status`` for one model (versions, aliases, gate tags, history, lock, notes)."""
    from mlflow_steward.registry import status

    return status(name, client=client)


def version_rows(report: StatusReport) -> tuple[VersionRow, ...]:
    return tuple(
        VersionRow(
            version=v.version, aliases=v.aliases, gate=v.gate, metrics=dict(v.metrics), created=v.created,
            run_id=v.run_id, dataset_version=v.dataset_version,
        )
        for v in report.versions
    )


def moves(report: StatusReport) -> tuple[Move, ...]:
    return tuple(
        Move(e.seq, e.action, e.from_version, e.to_version, e.at, e.by, e.reason, e.run_id) for e in report.history
    )


def test_values(versions: Iterable[VersionRow], version: str | None) -> dict[str, Point]:
    """The test metrics (with intervals) recorded on ``version`` at registration."""
    row = next((v for v in versions if v.version == version), None)
    if row is None:
        return {}
    parsed = {k: parse_metric_text(v) for k, v in row.metrics.items()}
    return {k: p for k, p in parsed.items() if p is not None}
