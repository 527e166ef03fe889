"""The ingest report of a batch: ``ingest/report.json`` and a self-contained ``ingest/report.html``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow_steward.retrain import _html as h

if TYPE_CHECKING:
    from mlflow_steward.data import BatchPlan
    from mlflow_steward.retrain._checks import IngestCheck


def ingest_report(plan: BatchPlan, checks: Sequence[IngestCheck], verdict: str) -> dict[str, Any]:
    return {
        "dataset": plan.name,
        "source": plan.source,
        "verdict": verdict,
        "batch_rows": len(plan.batch),
        "duplicates_dropped": plan.duplicates_dropped,
        "batch_digest": plan.batch_digest,
        "compared_with": None if plan.parent is None else plan.parent.label,
        "reference_rows": None if plan.parent_parts is None else plan.parent_parts.n_rows,
        "checks": [c.to_dict() for c in checks],
    }


_VERDICT_OK = {"accepted": True, "allowed": None, "quarantined": False, "rejected": False}


def ingest_html(plan: BatchPlan, checks: Sequence[IngestCheck], verdict: str, report: dict[str, Any]) -> str:
    against = "a new dataset (nothing to compare with)" if plan.parent is None else plan.parent.label
    head = (
        f'<p class="verdict">{h.mark(_VERDICT_OK.get(verdict), verdict.upper())} '
        f"{h.esc(Path(plan.source).name)}: {len(plan.batch):,} rows against {h.esc(against)}</p>"
    )
    rows = [
        (c.name, h.mark(c.passed, "passed" if c.passed else "FAILED"), ", ".join(c.columns) or "–", c.detail)
        for c in checks
    ]
    body = h.table(["check", "result", "columns", "detail"], rows) if rows else "<p>No checks (first batch).</p>"
    facts = h.table(["", ""], [
        ("batch digest", report["batch_digest"][:16]),
        ("duplicate rows dropped", report["duplicates_dropped"]),
        ("rows of the current version", report["reference_rows"] if report["reference_rows"] is not None else "–"),
    ])
    return h.page(f"Ingest of {Path(plan.source).name} into {plan.name}", f"verdict: {verdict}",
                  [("", head), ("Checks", body), ("Batch", facts)])
