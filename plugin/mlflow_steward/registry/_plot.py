"""Forest plot of the gate's slice differences: compute the record, then draw it (matplotlib lazily)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlflow_steward.registry._decision import OVERALL, WORSE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mlflow_steward.registry._decision import GateDecision

MAX_ROWS = 40


@dataclass(frozen=True)
class ForestRecord:
    """What the forest plot shows: one labelled interval per compared row, and the margin."""

    metric: str
    labels: tuple[str, ...]
    estimates: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    worse: tuple[bool, ...]
    margin: float  # signed limit of the overall row (positive for lower-is-better metrics)


def forest_record(decision: GateDecision, *, max_rows: int = MAX_ROWS) -> ForestRecord | None:
    """The rows that have a difference interval (overall first, worst slices next), or None."""
    rows = [r for r in decision.rows if r.difference is not None]
    if not rows:
        return None
    overall = [r for r in rows if r.column == OVERALL]
    slices = sorted((r for r in rows if r.column != OVERALL), key=lambda r: (r.verdict != WORSE, r.p_adjusted or 1.0))
    rows = (overall + slices)[:max_rows]
    margin = overall[0].margin if overall and overall[0].margin is not None else 0.0
    return ForestRecord(
        metric=decision.metric,
        labels=tuple("overall" if r.column == OVERALL else f"{r.column}={r.value}" for r in rows),
        estimates=tuple(r.difference.estimate for r in rows),  # type: ignore[union-attr]
        lows=tuple(r.difference.low for r in rows),  # type: ignore[union-attr]
        highs=tuple(r.difference.high for r in rows),  # type: ignore[union-attr]
        worse=tuple(r.verdict == WORSE for r in rows),
        margin=-margin if decision.greater_is_better else margin,
    )


def draw_forest(record: ForestRecord) -> Figure:
    """A horizontal interval per row; zero and the margin as vertical lines. Returns the Figure."""
    from matplotlib.figure import Figure

    n = len(record.labels)
    fig = Figure(figsize=(8, 1.2 + 0.32 * n))
    ax = fig.subplots()
    ys = list(range(n))[::-1]
    for y, est, lo, hi, bad in zip(ys, record.estimates, record.lows, record.highs, record.worse):
        color = "tab:red" if bad else "tab:blue"
        ax.plot([lo, hi], [y, y], color=color, linewidth=2)
        ax.plot([est], [y], marker="o", color=color)
    ax.axvline(0.0, color="black", linewidth=0.8)
    if record.margin:
        ax.axvline(record.margin, color="tab:orange", linestyle="--", linewidth=0.8, label="margin")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(record.labels, fontsize=8)
    ax.set_xlabel(f"{record.metric}: challenger - champion")
    ax.set_title("steward gate: paired bootstrap differences")
    fig.tight_layout()
    return fig
