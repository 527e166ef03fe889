"""Study plots in two layers: compute a small frozen record (no plotting library), then draw it.

Drawing uses :class:`matplotlib.figure.Figure` directly (Agg canvas, no pyplot): nothing is shown,
no global state or style changes, nothing to close; the caller saves the returned figure.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from ._families import split_params
from ._scoring import MAXIMIZE

MSG_TOO_FEW_TRIALS = "parameter importances need at least {n} completed trials, the study has {have}"
MIN_TRIALS_FOR_IMPORTANCE = 3


@dataclass(frozen=True)
class HistoryRecord:
    """Completed trials in order: number, value, family and the best value so far."""

    numbers: tuple[int, ...]
    values: tuple[float, ...]
    families: tuple[str, ...]
    best_so_far: tuple[float, ...]
    scoring: str
    direction: str
    n_pruned: int
    n_failed: int

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {"trial": self.numbers, "value": self.values, "family": self.families, "best_so_far": self.best_so_far}
        )


@dataclass(frozen=True)
class ImportanceRecord:
    """Optuna's parameter importances (PED-ANOVA, normalised to sum 1), most important first."""

    params: tuple[str, ...]
    importances: tuple[float, ...]
    note: str | None = None  # why there are none, or a warning from the evaluator

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"param": self.params, "importance": self.importances})


def optimization_history(study: Any, *, scoring: str, direction: str) -> HistoryRecord:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    best: list[float] = []
    for t in complete:
        if not best:
            best.append(t.value)
        else:
            better = max if direction == MAXIMIZE else min
            best.append(better(best[-1], t.value))
    return HistoryRecord(
        numbers=tuple(t.number for t in complete),
        values=tuple(float(t.value) for t in complete),
        families=tuple(str(split_params(t.params)[0]) for t in complete),
        best_so_far=tuple(float(b) for b in best),
        scoring=scoring,
        direction=direction,
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        n_failed=sum(t.state == TrialState.FAIL for t in trials),
    )


def param_importances(study: Any) -> ImportanceRecord:
    import optuna
    from optuna.trial import TrialState

    n_complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    if n_complete < MIN_TRIALS_FOR_IMPORTANCE:
        return ImportanceRecord((), (), MSG_TOO_FEW_TRIALS.format(n=MIN_TRIALS_FOR_IMPORTANCE, have=n_complete))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            importances = optuna.importance.get_param_importances(study)
        except (ValueError, RuntimeError) as error:  # e.g. no parameter varies
            return ImportanceRecord((), (), f"no importances: {error}")
    note = "; ".join(sorted({str(w.message) for w in caught})) or None
    return ImportanceRecord(tuple(importances), tuple(float(v) for v in importances.values()), note)


def draw_optimization_history(record: HistoryRecord) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for family in dict.fromkeys(record.families):
        points = [(n, v) for n, v, f in zip(record.numbers, record.values, record.families) if f == family]
        ax.scatter([p[0] for p in points], [p[1] for p in points], label=family, s=22, alpha=0.8)
    if record.numbers:
        ax.step(record.numbers, record.best_so_far, where="post", color="black", linewidth=1.2, label="best so far")
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(0.5, 0.5, "no completed trial", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"CV {record.scoring} ({record.direction})")
    ax.set_title(
        f"Optimisation history: {len(record.numbers)} completed, {record.n_pruned} pruned, {record.n_failed} failed"
    )
    ax.grid(alpha=0.3)
    return fig


def draw_param_importances(record: ImportanceRecord) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, max(3.0, 0.35 * len(record.params) + 1.5)), layout="constrained")
    ax = fig.add_subplot()
    if record.params:
        ax.barh(list(reversed(record.params)), list(reversed(record.importances)), color="tab:blue")
        ax.set_xlabel("importance (normalised)")
    else:
        ax.text(0.5, 0.5, record.note or "no parameters", ha="center", va="center", transform=ax.transAxes, wrap=True)
        ax.set_yticks([])
    ax.set_title("Parameter importances (PED-ANOVA over completed trials)")
    return fig
