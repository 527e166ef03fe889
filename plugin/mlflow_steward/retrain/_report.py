"""The cycle report of a retrain: which data, which trials, challenger vs champion overall and per
slice, the decision. ``retrain/report.json`` and a self-contained ``retrain/report.html`` (plots
inlined as data URIs: the gate's forest plot and the tuning history) on the retrain run."""

from __future__ import annotations

import base64
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from mlflow_steward import names
from mlflow_steward._paging import every_page
from mlflow_steward.retrain import _html as h

_logger = logging.getLogger(__name__)
_LOWER_IS_BETTER = ("rmse", "mae", "mape", "log_loss", "brier")
_MAX_TRIALS = 15
_MAX_SLICES = 40


def _trials(client: Any, tune_run_id: str) -> list[dict[str, Any]]:
    """Every trial (child run) of a tune run: number, state, family, params, CV mean and std."""
    experiment = client.get_run(tune_run_id).info.experiment_id
    runs = every_page(client.search_runs, [experiment], filter_string=f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{tune_run_id}'")
    trials = []
    for run in runs:
        metrics = run.data.metrics
        mean = next((v for k, v in metrics.items() if k.startswith("cv_") and k.endswith("_mean")), None)
        std = next((v for k, v in metrics.items() if k.startswith("cv_") and k.endswith("_std")), None)
        scoring = next((k[3:-5] for k in metrics if k.startswith("cv_") and k.endswith("_mean")), "")
        trials.append({
            "number": int(run.data.tags.get(names.TAG_TRIAL_NUMBER, "-1")),
            "state": run.data.tags.get(names.TAG_TRIAL_STATE, ""),
            "params": dict(run.data.params), "cv_mean": mean, "cv_std": std, "scoring": scoring,
            "run_id": run.info.run_id,
        })
    return sorted(trials, key=lambda t: t["number"])


def cycle_report(outcome: Any, *, record: Any, data_run_id: str, tune_run_id: str, train: Any,
                 warm_start: list, ensemble: Any, usage: Any) -> dict[str, Any]:
    import mlflow

    client = mlflow.MlflowClient()
    trials = _trials(client, tune_run_id)
    decisions, promotions = usage.of_generation(record.generation)
    return {
        "dataset": {"name": record.name, "version": record.version, "digest": record.digest, "rows": record.rows,
                    "parent": record.parent, "verdict": record.verdict, "test_set_generation": record.generation,
                    "refreshed_before_training": outcome.refreshed, "run_id": record.run_id,
                    "test_set_decisions": decisions, "test_set_promotions": promotions},
        "runs": {"retrain": outcome.run_id, "data": data_run_id, "tune": tune_run_id, "train": train.run_id,
                 "ensemble": None if ensemble is None else ensemble.run_id},
        "reused": {"train": train.reused},
        "warm_start": warm_start,
        "trials": trials,
        "candidate": outcome.candidate,
        "test_metrics": {k: v for k, v in train.metrics.items() if "/" not in k},
        "production_before": outcome.production_before,
        "production_after": outcome.production_after,
        "decision": outcome.decision,
        "promoted": outcome.promoted,
        "warnings": list(outcome.warnings),
        "summary": outcome.summary(),
    }


def _png(client: Any, run_id: str | None, path: str) -> str | None:
    if not run_id:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="steward-report-") as tmp:
            local = client.download_artifacts(run_id, path, tmp)
            return "data:image/png;base64," + base64.b64encode(Path(local).read_bytes()).decode("ascii")
    except Exception as exc:  # a missing plot never stops the report
        _logger.debug("no %s on run %s: %s", path, run_id, exc)
        return None


def _num(value: Any) -> str:
    if value is None:
        return "–"
    from mlflow_steward.registry._format import fmt

    return fmt(value)


def render_html(report: dict[str, Any]) -> str:
    import mlflow

    client = mlflow.MlflowClient()
    ds, decision = report["dataset"], report.get("decision")
    ok = True if report["promoted"] else (None if decision is None else False)
    sections = [("", f'<p class="verdict">{h.mark(ok, report["summary"])}</p>')]
    for warning in report["warnings"]:
        sections.append(("", f'<p>{h.mark(None, "WARNING")} {h.esc(warning)}</p>'))
    rows = ds["rows"]
    sections.append(("Data", h.table(["", ""], [
        ("dataset version", f"{ds['name']}@{ds['version']} ({ds['verdict']}, parent "
                            f"{'–' if ds['parent'] is None else 'v' + str(ds['parent'])})"),
        ("rows", f"train {rows.get('train', 0):,} · test {rows.get('test', 0):,} · retired {rows.get('retired', 0):,}"),
        ("test set", f"generation {ds['test_set_generation']}: {ds['test_set_decisions']} gate decisions, "
                     f"{ds['test_set_promotions']} promotions"
                     + (f" (refreshed into v{ds['refreshed_before_training']} before training)"
                        if ds["refreshed_before_training"] else "")),
        ("digest", ds["digest"][:16]),
    ])))
    trials = [t for t in report["trials"] if t["cv_mean"] is not None]
    scoring = trials[0]["scoring"] if trials else ""
    trials.sort(key=lambda t: t["cv_mean"], reverse=scoring not in _LOWER_IS_BETTER)
    warm = {json.dumps(w.get("params", {}), sort_keys=True, default=str) for w in report["warm_start"]}
    trial_rows = []
    for t in trials[:_MAX_TRIALS]:
        params = {k: v for k, v in t["params"].items() if k != "family"}
        trial_rows.append((t["number"], t["params"].get("family", ""), ", ".join(f"{k}={v}" for k, v in params.items()),
                           f"{_num(t['cv_mean'])} ± {_num(t['cv_std'])}", t["state"]))
    note = f"{len(report['trials'])} trials" + (", the first one warm-started from production" if warm else "")
    sections.append((f"Trials (best {min(len(trials), _MAX_TRIALS)} by CV {scoring}; {note})",
                     h.table(["#", "family", "parameters", f"CV {scoring}", "state"], trial_rows, numeric=(0, 3))))
    history = _png(client, report["runs"]["tune"], names.ARTIFACT_OPTIMIZATION_HISTORY)
    if history:
        sections.append(("", h.image(history, "optimization history")))
    if decision is not None:
        sections.append(_decision_section(client, decision))
    return h.page(f"Retrain of {decision['model_name'] if decision else 'the model'} on {ds['name']}@{ds['version']}",
                  f"retrain run {report['runs']['retrain']}", sections)


def _decision_section(client: Any, decision: dict[str, Any]) -> tuple[str, str]:
    metric = decision.get("metric", "")
    lines = [f"<p>{h.mark(decision.get('passed'), decision.get('verdict', '').upper())} version "
             f"{h.esc(decision.get('version'))} vs production version {h.esc(decision.get('champion_version') or '–')} "
             f"on {decision.get('n_rows', 0):,} test rows neither model trained on</p>"]
    checks = [(c.get("name"), h.mark(c.get("passed"), "passed" if c.get("passed") else "FAILED"), c.get("detail"))
              for c in decision.get("checks", [])]
    lines.append(h.table(["check", "result", "detail"], checks))
    rows = decision.get("rows", [])
    rows = sorted(rows, key=lambda r: (r["slice"] != "overall", r["verdict"] != "worse", r.get("p_adjusted") or 1.0))
    table = []
    for r in rows[:_MAX_SLICES]:
        diff = "–" if r.get("difference") is None else (
            f"{_num(r['difference'])} [{_num(r['difference_low'])}, {_num(r['difference_high'])}]")
        label = "overall" if r["slice"] == "overall" else f"{r['slice']} = {r['value']}"
        table.append((label, f"{r['n']:,}", _num(r.get("champion")), _num(r.get("challenger")), diff,
                      _num(r.get("p_adjusted")), h.mark(r["verdict"] != "worse", r["verdict"])))
    lines.append(h.table(["slice", "n", "champion", "challenger", "difference [95% CI]", "p adj.", "verdict"], table,
                         numeric=(1, 2, 3, 5)))
    forest = _png(client, decision.get("gate_run_id"), names.ARTIFACT_GATE_FOREST)
    if forest:
        lines.append(h.image(forest, "challenger minus champion, overall and per slice"))
    return f"Challenger vs champion ({metric})", "".join(lines)


def log_report(report: dict[str, Any], outcome: Any) -> None:
    """``retrain/report.json``, ``retrain/report.html`` and the key numbers on the active (retrain) run."""
    import mlflow

    mlflow.log_text(json.dumps(report, indent=2, default=str), names.ARTIFACT_RETRAIN_REPORT)
    mlflow.log_text(render_html(report), names.ARTIFACT_RETRAIN_HTML)
    metrics = {f"test/{k}": float(v) for k, v in report["test_metrics"].items() if isinstance(v, (int, float))}
    metrics["promoted"] = float(outcome.promoted)
    metrics["trials"] = float(len(report["trials"]))
    mlflow.log_metrics(metrics)
    mlflow.set_tag("steward.retrain_summary", outcome.summary()[:5000])
    if outcome.warnings:
        mlflow.set_tag(names.TAG_TESTSET_WARNING, " | ".join(outcome.warnings)[:5000])
