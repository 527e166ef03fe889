"""Reference vs window histograms of the columns that drifted: computed as records, then drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlflow_steward.monitoring._profile import CategoricalLayout, ColumnProfile
from mlflow_steward.monitoring._result import DriftResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

MAX_PANELS = 12
MAX_CATEGORY_BARS = 15


@dataclass(frozen=True)
class HistogramRecord:
    """Shares of one column per bin (or category) in the reference and in the window."""

    column: str
    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    alarms: tuple[str, ...]


def _labels(column: ColumnProfile) -> list[str]:
    layout = column.layout
    if isinstance(layout, CategoricalLayout):
        return [*layout.categories, "(other)"]
    edges = layout.edges()
    inner = [f"[{a:.3g}, {b:.3g})" for a, b in zip(edges[:-1], edges[1:])]
    if inner:
        inner[-1] = inner[-1][:-1] + "]"
    return [f"< {layout.low:.3g}", *inner, f"> {layout.high:.3g}"]


def histogram_records(result: DriftResult, columns: list[str] | None = None) -> list[HistogramRecord]:
    """One record per drifting column (or per column of ``columns``), at most :data:`MAX_PANELS`."""
    names = columns if columns is not None else list(result.overall.columns)
    records = []
    for name in names[:MAX_PANELS]:
        if name not in result.reference or name not in result.current:
            continue
        ref, cur = result.reference.column(name), result.current.column(name)
        labels, r, c = _labels(ref), ref.shares(), cur.shares()
        if isinstance(ref.layout, CategoricalLayout) and len(labels) > MAX_CATEGORY_BARS:
            top = np.argsort(-(r + c)[:-1], kind="stable")[: MAX_CATEGORY_BARS - 1]
            rest = np.setdiff1d(np.arange(len(labels)), top)
            labels = [labels[i] for i in top] + ["(rest)"]
            r, c = np.append(r[top], r[rest].sum()), np.append(c[top], c[rest].sum())
        alarms = result.by_column[name].alarms if name in result.by_column else ()
        records.append(HistogramRecord(name, tuple(labels), tuple(map(float, r)), tuple(map(float, c)), tuple(alarms)))
    return records


def plot_histograms(records: list[HistogramRecord], *, title: str = "") -> Figure:
    """Bars of reference vs window shares, one panel per record; returns the figure (nothing shown)."""
    from matplotlib.figure import Figure

    count = max(len(records), 1)
    ncols = min(3, count)
    nrows = int(np.ceil(count / ncols))
    figure = Figure(figsize=(5.2 * ncols, 3.6 * nrows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(nrows, ncols)).ravel()
    for ax, record in zip(axes, records):
        x = np.arange(len(record.labels))
        ax.bar(x - 0.2, record.reference, width=0.4, label="training", color="#7f8c8d")
        ax.bar(x + 0.2, record.current, width=0.4, label="window", color="#e67e22")
        ax.set_xticks(x, record.labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("share")
        ax.set_title(f"{record.column}: {', '.join(record.alarms) or 'no alarm'}", fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[len(records):]:
        ax.set_visible(False)
    if not records:
        axes[0].set_visible(True)
        axes[0].text(0.5, 0.5, "no drift", ha="center", va="center")
        axes[0].set_axis_off()
    if title:
        figure.suptitle(title, fontsize=10)
    return figure
