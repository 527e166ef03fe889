"""The reference profile: a small, mergeable summary of a model's training data and outputs.

Per numeric column: missing count, moments (count, mean, m2..m4), min/max and counts in fixed bins
(training quantiles, plus an open bin below the training minimum and one above the maximum). Per
categorical column: missing count and counts of the kept categories plus one "other" count. The
model's outputs (prediction, class probabilities) are columns with role ``prediction``.

A profile's *layout* (bin edges, kept categories) is fixed by the data it was first built from;
profiles with the same layout merge exactly: counts add, moments combine with the parallel formula.
So chunks of a file, a window of captures or Spark partitions, each profiled with
``build_profile(part, like=reference)``, merge into the profile of the whole. A profile is plain
JSON (``to_json``/``from_json``), stored inside the model directory and as a run artifact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._summarize import CATEGORICAL, EMPTY_MOMENTS, NUMERIC, Moments

FORMAT = "steward.profile/1"
FEATURE = "feature"
PREDICTION = "prediction"
ROLES = (FEATURE, PREDICTION)
PREDICTION_COLUMN = "prediction"
PROBABILITY_PREFIX = "probability/"
UNSEEN_EXAMPLES = 10  # values outside a categorical layout kept by name (the most frequent)

NOT_A_PROFILE = "not a reference profile: {detail}"
NO_SUCH_COLUMN = "the profile has no column {name!r}; its columns are: {columns}"
MERGE_MISMATCH = (
    "cannot merge profiles: {detail}; profile every part with build_profile(part, like=reference) so they share "
    "one layout"
)


@dataclass(frozen=True)
class NumericLayout:
    """Training range and inner quantile edges. Bins: below ``low``; ``[low, e0)``, ..., ``[e_last, high]``;
    above ``high``."""

    low: float
    high: float
    inner: tuple[float, ...]

    @property
    def n_bins(self) -> int:
        return len(self.inner) + 3

    def edges(self) -> np.ndarray:
        """Finite bin boundaries ``[low, e0, ..., e_last, high]``."""
        return np.array([self.low, *self.inner, self.high], dtype="float64")


@dataclass(frozen=True)
class CategoricalLayout:
    """Kept categories (most frequent first, all of them unless there were more than
    ``max_categories``) and how many distinct categories were not kept (their rows count as "other")."""

    categories: tuple[str, ...]
    truncated: int = 0

    @property
    def n_bins(self) -> int:
        return len(self.categories) + 1


@dataclass(frozen=True)
class ColumnProfile:
    """One column's summary. ``counts``: per bin (numeric) or per kept category plus "other"."""

    name: str
    kind: str  # numeric | categorical
    role: str  # feature | prediction
    layout: NumericLayout | CategoricalLayout
    missing: int
    counts: tuple[int, ...]
    moments: Moments | None = None  # numeric only
    minimum: float | None = None  # numeric only; None without values
    maximum: float | None = None
    unseen: tuple[tuple[str, int], ...] = ()  # categorical, profiled like a reference: top values outside it
    unseen_distinct: int = 0  # ... and how many distinct values were outside it (an upper bound after merges)

    @property
    def count(self) -> int:
        """Non-missing values."""
        return int(sum(self.counts))

    @property
    def rows(self) -> int:
        return self.count + self.missing

    @property
    def missing_rate(self) -> float | None:
        return self.missing / self.rows if self.rows else None

    def shares(self) -> np.ndarray:
        counts = np.asarray(self.counts, dtype="float64")
        total = counts.sum()
        return counts / total if total else counts

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Both columns' values together (same name, kind and layout required)."""
        for attribute in ("name", "kind", "role", "layout"):
            if getattr(self, attribute) != getattr(other, attribute):
                raise StewardInputError(MERGE_MISMATCH.format(detail=f"column {self.name!r} differs in {attribute}"))
        counts = tuple(int(a + b) for a, b in zip(self.counts, other.counts))
        if self.kind == CATEGORICAL:
            unseen: dict[str, int] = {}
            for value, count in (*self.unseen, *other.unseen):
                unseen[value] = unseen.get(value, 0) + count
            top = tuple(sorted(unseen.items(), key=lambda item: (-item[1], item[0]))[:UNSEEN_EXAMPLES])
            return replace(self, missing=self.missing + other.missing, counts=counts, unseen=top,
                           unseen_distinct=self.unseen_distinct + other.unseen_distinct)
        extremes = [v for v in (self.minimum, other.minimum) if v is not None]
        tops = [v for v in (self.maximum, other.maximum) if v is not None]
        return replace(
            self,
            missing=self.missing + other.missing,
            counts=counts,
            moments=(self.moments or EMPTY_MOMENTS).merge(other.moments or EMPTY_MOMENTS),
            minimum=min(extremes) if extremes else None,
            maximum=max(tops) if tops else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "role": self.role, "missing": self.missing,
                               "counts": list(self.counts)}  # fmt: skip
        if isinstance(self.layout, NumericLayout):
            m = self.moments or EMPTY_MOMENTS
            out.update(
                low=_finite(self.layout.low), high=_finite(self.layout.high), inner=list(self.layout.inner),
                count=m.count, mean=m.mean, m2=m.m2, m3=m.m3, m4=m.m4, min=self.minimum, max=self.maximum,
            )  # fmt: skip
        else:
            out.update(categories=list(self.layout.categories), truncated=self.layout.truncated)
            if self.unseen:
                out.update(unseen=[[value, count] for value, count in self.unseen], unseen_distinct=self.unseen_distinct)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnProfile:
        try:
            kind = d["kind"]
            if kind == NUMERIC:
                layout: NumericLayout | CategoricalLayout = NumericLayout(
                    low=_nan(d["low"]), high=_nan(d["high"]), inner=tuple(float(v) for v in d["inner"])
                )
                moments = Moments(int(d["count"]), float(d["mean"]), float(d["m2"]), float(d["m3"]), float(d["m4"]))
                extra = {"moments": moments, "minimum": d["min"], "maximum": d["max"]}
            elif kind == CATEGORICAL:
                layout = CategoricalLayout(categories=tuple(str(c) for c in d["categories"]), truncated=int(d["truncated"]))
                extra = {"unseen": tuple((str(v), int(n)) for v, n in d.get("unseen", [])),
                         "unseen_distinct": int(d.get("unseen_distinct", 0))}
            else:
                raise StewardInputError(NOT_A_PROFILE.format(detail=f"column {d.get('name')!r} has kind {kind!r}"))
            column = cls(name=str(d["name"]), kind=kind, role=str(d["role"]), layout=layout, missing=int(d["missing"]),
                         counts=tuple(int(c) for c in d["counts"]), **extra)  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise StewardInputError(NOT_A_PROFILE.format(detail=f"column entry {d!r:.120}: {exc!r}")) from None
        if len(column.counts) != layout.n_bins:
            raise StewardInputError(NOT_A_PROFILE.format(detail=f"column {column.name!r}: counts do not match its bins"))
        return column


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class Profile:
    """Column profiles of a data set (features, then the model's outputs) and its row count."""

    columns: tuple[ColumnProfile, ...]
    rows: int
    task: str | None = None  # regression | classification, when outputs are profiled
    classes: tuple[str, ...] | None = None
    source: str = ""

    def names(self, role: str | None = None) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if role is None or c.role == role)

    @property
    def features(self) -> tuple[ColumnProfile, ...]:
        return tuple(c for c in self.columns if c.role == FEATURE)

    @property
    def outputs(self) -> tuple[ColumnProfile, ...]:
        return tuple(c for c in self.columns if c.role == PREDICTION)

    def column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        raise StewardInputError(NO_SUCH_COLUMN.format(name=name, columns=", ".join(self.names())))

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def merge(self, other: Profile) -> Profile:
        """The profile of both data sets together (exact for counts; moments to rounding)."""
        if self.names() != other.names():
            raise StewardInputError(MERGE_MISMATCH.format(detail=f"columns {self.names()} vs {other.names()}"))
        columns = tuple(a.merge(b) for a, b in zip(self.columns, other.columns))
        return replace(self, columns=columns, rows=self.rows + other.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "task": self.task,
            "classes": None if self.classes is None else list(self.classes),
            "source": self.source,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise StewardInputError(NOT_A_PROFILE.format(detail=f"format is {got!r}, expected {FORMAT!r}"))
        columns = tuple(ColumnProfile.from_dict(c) for c in d.get("columns", []))
        classes = d.get("classes")
        return cls(columns=columns, rows=int(d.get("rows", 0)), task=d.get("task"),
                   classes=None if classes is None else tuple(str(c) for c in classes), source=str(d.get("source", "")))  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StewardInputError(NOT_A_PROFILE.format(detail=f"invalid JSON: {exc}")) from None
        return cls.from_dict(data)


def merge_profiles(profiles: list[Profile] | tuple[Profile, ...]) -> Profile:
    """Merge profiles that share one layout (e.g. chunks profiled ``like`` one reference)."""
    if not profiles:
        raise StewardInputError(MERGE_MISMATCH.format(detail="no profiles given"))
    merged = profiles[0]
    for profile in profiles[1:]:
        merged = merged.merge(profile)
    return merged
