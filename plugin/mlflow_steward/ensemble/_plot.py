"""Draw a :class:`._compare.Comparison`: members and ensemble, test metric with interval whiskers.

matplotlib (Agg, imported here only) draws on a new Figure that is returned, never shown; no
global style is changed.
"""

from __future__ import annotations

from typing import Any

from ._compare import Comparison, fmt


def draw_comparison(comparison: Comparison) -> Any:
    """Horizontal bars of the test metric per model, whiskers = bootstrap interval; the ensemble
    and the best member are highlighted, and the title states the verdict."""
    from matplotlib.figure import Figure

    rows = list(comparison.rows)
    figure = Figure(figsize=(9.0, 0.55 * len(rows) + 2.0), layout="constrained")
    ax = figure.add_subplot()
    positions = list(range(len(rows)))[::-1]
    colors = [
        "tab:orange" if r.is_ensemble else "tab:blue" if r.name == comparison.best_member else "tab:gray"
        for r in rows
    ]
    values = [r.test_score for r in rows]
    errors = [[r.test_score - r.test_low for r in rows], [r.test_high - r.test_score for r in rows]]
    ax.barh(positions, values, xerr=errors, color=colors, alpha=0.85, capsize=4, error_kw={"elinewidth": 1.2})
    labels = [
        f"{r.name}" + ("" if r.is_ensemble or r.weight != r.weight else f"  (w={r.weight:.2f})")
        + ("  ★ best member" if r.name == comparison.best_member and not r.is_ensemble else "")
        for r in rows
    ]
    ax.set_yticks(positions, labels)
    high = max(r.test_high for r in rows)
    low = min(0.0, min(r.test_low for r in rows))
    ax.set_xlim(low, high * 1.4 if high > 0 else 0.0)  # bars start at 0: lengths stay comparable
    for y, r in zip(positions, rows):
        ax.annotate(
            f" {fmt(r.test_score)} [{fmt(r.test_low)}, {fmt(r.test_high)}]",
            (r.test_high, y), va="center", fontsize=8,
        )
    ax.axvline(comparison.ensemble.test_score, color="tab:orange", linestyle="--", linewidth=1)
    best = comparison.best
    verdict = "beats" if comparison.beats_best_member else "does not beat"
    ax.set_xlabel(
        f"test {comparison.metric} ({'higher' if comparison.greater_is_better else 'lower'} is better), "
        f"{comparison.confidence:.0%} bootstrap interval"
    )
    figure.suptitle(
        f"Ensemble {verdict} its best member {best.name} (best by CV)\ntest difference "
        f"{fmt(best.diff, signed=True)} [{fmt(best.diff_low, signed=True)}, {fmt(best.diff_high, signed=True)}]",
        fontsize=10,
    )
    return figure
