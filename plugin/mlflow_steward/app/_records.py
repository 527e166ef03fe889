"""What the pages show, as small frozen records: read by the sources, drawn by the views.

Every page is computed first (``_pages``) into one of the page records at the bottom, then rendered
(``_views``). The records hold plain values only, so the views can be tested on hand-made records
(for data that lands later: monitor windows, dataset versions) and the readers on a real store.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from mlflow_steward.registry import ForestRecord  # the gate's forest plot, ready to draw

# states of the last monitor window (issue 14's exit codes: 0 healthy, 3 drift, 4 performance)
STATE_HEALTHY = "healthy"
STATE_DRIFT = "drift"
STATE_PERFORMANCE = "performance"


@dataclass(frozen=True)
class Point:
    """One value with its interval (``low``/``high`` None when unknown) and whether it alarmed."""

    value: float
    low: float | None = None
    high: float | None = None
    alarm: bool = False


@dataclass(frozen=True)
class VersionBrief:
    """A version as the models list shows it: number, key metric text, gate verdict, run."""

    version: str
    metric: str  # e.g. "rmse"
    metric_text: str  # the ``steward.metric.<metric>`` tag: "49,100 [48,200, 50,100]" ("" if absent)
    gate: str  # passed | rejected | forced | ""
    run_id: str | None


@dataclass(frozen=True)
class GateSummary:
    """One gate run: which version against which, the verdict, the overall difference."""

    run_id: str
    experiment_id: str
    version: str
    champion_version: str | None
    verdict: str  # passed | rejected | forced | "" (a run that never reached a decision)
    status: str  # the run's status: FINISHED, FAILED, RUNNING
    started: float  # epoch seconds
    metric: str
    difference: Point | None  # challenger - champion, overall
    challenger: Point | None  # first candidates: the threshold metric's interval
    challenger_metric: str = ""  # ... and which metric that is


@dataclass(frozen=True)
class GateRowView:
    """One row of a gate table (the overall row has ``column == "overall"``)."""

    column: str
    value: str
    n: int
    champion: float | None
    challenger: float | None
    difference: Point | None
    p_adjusted: float | None
    verdict: str


@dataclass(frozen=True)
class GateDetail:
    """A whole gate decision (``gate/decision.json``): checks, rows, forest plot."""

    summary: GateSummary
    checks: tuple[tuple[str, bool, str], ...]  # (name, passed, detail)
    rows: tuple[GateRowView, ...]
    forest: ForestRecord | None
    n_rows: int
    test_source: str
    decided_at: str
    greater_is_better: bool
    error: str = ""  # why the decision could not be read ("" when it was)

    @property
    def notable_rows(self) -> tuple[GateRowView, ...]:
        """The overall row and the slices that decided or were flagged (not ok, not uncompared)."""
        quiet = {"ok", "not compared", "too small"}
        return tuple(r for r in self.rows if r.column == "overall" or r.verdict not in quiet)


@dataclass(frozen=True)
class Move:
    """One move of ``production`` (a ``registry.HistoryEntry``, plus the run's experiment if known)."""

    seq: int
    action: str  # promote | force | rollback
    from_version: str | None
    to_version: str
    at: str  # ISO 8601 UTC
    by: str
    reason: str
    run_id: str | None


@dataclass(frozen=True)
class VersionRow:
    """One version on the model page."""

    version: str
    aliases: tuple[str, ...]
    gate: str
    metrics: dict[str, str]  # metric -> "value [low, high]"
    created: str
    run_id: str | None
    dataset_version: str


@dataclass(frozen=True)
class MonitorWindow:
    """One monitor run (one time window): the state, drift scores per column and check, live metrics."""

    run_id: str
    experiment_id: str
    version: str
    start: float | None  # epoch seconds of the window (None when the run does not say)
    end: float  # epoch seconds: the window's end, else the run's start time
    state: str  # healthy | drift | performance | other words the monitor writes
    drift: dict[tuple[str, str], Point] = field(default_factory=dict)  # (column, check) -> score
    live: dict[str, Point] = field(default_factory=dict)  # metric -> value with interval
    labels: int | None = None  # labelled rows behind the live metrics
    checked: float = 0.0  # epoch seconds when the window was checked (its run's start): the newest check wins


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a named dataset (issue 15): size, ingest verdict, where it lives."""

    dataset: str
    version: str
    rows: int | None
    created: str
    ingest_verdict: str  # accepted | rejected | quarantined | allowed | ""
    digest: str = ""
    parent: str | None = None
    current: bool = False
    run_id: str | None = None
    experiment_id: str | None = None


@dataclass(frozen=True)
class PointerMove:
    """One move of a dataset's current pointer (issue 15), like a production move."""

    seq: int
    action: str
    from_version: str | None
    to_version: str
    at: str
    by: str
    reason: str


@dataclass(frozen=True)
class DatasetSummary:
    """A named dataset in the list: its current version and how many versions it has."""

    name: str
    current: str | None
    versions: int
    rows: int | None


# --- the pages -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSummary:
    """One line of the models list."""

    name: str
    production: VersionBrief | None
    staging: VersionBrief | None
    last_gate: GateSummary | None
    monitor: MonitorWindow | None  # the newest monitor window
    updated: float  # epoch seconds of the registered model's last update


@dataclass(frozen=True)
class ModelsPage:
    models: tuple[ModelSummary, ...]
    datasets: tuple[DatasetSummary, ...]
    hidden: int = 0  # models the user may not read (not listed)


@dataclass(frozen=True)
class ModelPage:
    name: str
    task: str
    key_metric: str
    production: str | None
    staging: str | None
    versions: tuple[VersionRow, ...]  # newest first
    moves: tuple[Move, ...]  # oldest first
    gates: tuple[GateSummary, ...]  # newest first
    gate_details: tuple[GateDetail, ...]  # the newest few, in full
    windows: tuple[MonitorWindow, ...]  # oldest first
    datasets: tuple[DatasetVersion, ...]
    notes: tuple[str, ...]
    test_values: dict[str, Point] = field(default_factory=dict)  # metric -> production's test value

    @property
    def last_window(self) -> MonitorWindow | None:
        return self.windows[-1] if self.windows else None


@dataclass(frozen=True)
class GatePage:
    name: str
    detail: GateDetail


@dataclass(frozen=True)
class DatasetPage:
    name: str
    versions: tuple[DatasetVersion, ...]  # newest first
    moves: tuple[PointerMove, ...]  # oldest first
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dataset version -> "model vN"

    @property
    def current(self) -> DatasetVersion | None:
        return next((v for v in self.versions if v.current), None)


def epoch(text: str | None) -> float | None:
    """Epoch seconds of an ISO 8601 time (UTC when it names no zone); None when unreadable."""
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()
