"""``cleaning_report``: what a fitted cleaning pipeline does to a raw frame, in numbers."""

from __future__ import annotations

import json
import numbers
import re
from dataclasses import asdict, dataclass, field

import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._errors import (
    REPORT_DUPLICATES,
    REPORT_NO_IMPUTER,
    REPORT_NOT_FRAME,
    REPORT_NOT_PIPELINE,
    CleaningParameterError,
)
from ._impute import TypedImputer
from ._markers import MissingMarkerReplacer
from ._outliers import OutlierClipper

METRIC_PREFIX = "cleaning"
# MLflow metric keys allow alphanumerics, "_", "-", ".", " ", "/" and "=" (same rule as
# mlflow_steward.names.sanitize_key_part, repeated here: cleaning imports nothing of ours).
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /=]")


def _key(value: object) -> str:
    return _UNSAFE_KEY_CHARS.sub("_", str(value))


@dataclass(frozen=True)
class CleaningReport:
    """Counts per column, from the raw frame to the imputed one.

    Attributes
    ----------
    n_rows : int
        Rows of the raw frame given to ``cleaning_report``.
    missing_before : dict of str to int
        Missing values per imputed column before imputation: NaN in the raw frame, plus marker
        strings (``"?"``), plus ratios undefined because of a zero denominator.
    missing_after : dict of str to int
        Missing values per imputed column after imputation (0 unless something went wrong).
    markers_replaced : dict of str to int
        Marker strings turned into missing values, per column.
    clipped : dict of str to int
        Values outside the clipper's learnt bounds, per clipped column.
    rows_dropped : dict of str to int
        Rows removed before cleaning, by reason (``"duplicates"``).
    coerced_to_missing : dict of str to int
        Cells that were not numbers in a column the data loader was told to coerce to numbers
        (``DatasetSpec.coerce_numeric``), turned into missing values before cleaning, per column.
    """

    n_rows: int
    missing_before: dict[str, int]
    missing_after: dict[str, int]
    markers_replaced: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    rows_dropped: dict[str, int] = field(default_factory=dict)
    coerced_to_missing: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict of the fields (JSON-ready)."""
        return asdict(self)

    def to_json(self) -> str:
        """The dict as indented JSON (what is logged as ``cleaning/report.json``)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics: ``cleaning/missing_before/<column>``, ``cleaning/clipped/<column>``,
        ``cleaning/duplicates_dropped``, ... (column names made key-safe), all floats."""
        metrics = {f"{METRIC_PREFIX}/rows": float(self.n_rows)}
        for name in ("missing_before", "missing_after", "markers_replaced", "clipped", "coerced_to_missing"):
            counts = getattr(self, name)
            for column, count in counts.items():
                metrics[f"{METRIC_PREFIX}/{name}/{_key(column)}"] = float(count)
            metrics[f"{METRIC_PREFIX}/{name}_total"] = float(sum(counts.values()))
        for reason, count in self.rows_dropped.items():
            metrics[f"{METRIC_PREFIX}/rows_dropped/{_key(reason)}"] = float(count)
        duplicates = self.rows_dropped.get("duplicates", 0)
        metrics[f"{METRIC_PREFIX}/duplicates_dropped"] = float(duplicates)
        return metrics


def cleaning_report(
    raw: pd.DataFrame,
    fitted_cleaning: Pipeline,
    *,
    duplicates_dropped: int = 0,
    coerced_to_missing: dict[str, int] | None = None,
) -> CleaningReport:
    """Run ``raw`` through the fitted cleaning pipeline up to its imputer and count.

    ``fitted_cleaning`` is a fitted pipeline from ``build_cleaning_pipeline`` (or a model
    pipeline from ``build_model_pipeline``, whose ``"cleaning"`` step is used).
    ``duplicates_dropped`` is the number of duplicate rows removed before ``raw`` (by the data
    loader); it is reported as ``rows_dropped["duplicates"]``. ``coerced_to_missing`` (column ->
    cells) is what the loader coerced to missing (``LoadedDataset.coerced``), reported as is.
    """
    if not isinstance(raw, pd.DataFrame):
        raise CleaningParameterError(REPORT_NOT_FRAME.format(type=type(raw).__name__))
    if not isinstance(fitted_cleaning, Pipeline):
        kind = type(fitted_cleaning).__name__
        raise CleaningParameterError(REPORT_NOT_PIPELINE.format(type=kind))
    inner = fitted_cleaning.named_steps.get("cleaning")
    pipeline = inner if isinstance(inner, Pipeline) else fitted_cleaning
    ok = isinstance(duplicates_dropped, numbers.Integral)
    ok = ok and not isinstance(duplicates_dropped, bool)
    if not ok or duplicates_dropped < 0:
        raise CleaningParameterError(REPORT_DUPLICATES.format(value=duplicates_dropped))
    if not any(isinstance(step, TypedImputer) for _, step in pipeline.steps):
        raise CleaningParameterError(REPORT_NO_IMPUTER)
    check_is_fitted(pipeline)

    X = raw
    markers = clipped = None
    for _, step in pipeline.steps:
        if step is None or isinstance(step, str):  # "passthrough" or "drop"
            continue
        if isinstance(step, MissingMarkerReplacer):
            before = _missing(X)
            X = step.transform(X)
            markers = _missing(X) - before
        elif isinstance(step, OutlierClipper):
            clipped = step.count_clipped(X)
            X = step.transform(X)
        elif isinstance(step, TypedImputer):
            columns = step.numeric_columns_ + step.categorical_columns_
            missing_before = _missing(X)[columns]
            X = step.transform(X)
            missing_after = _missing(X)[columns]
            break
        else:
            X = step.transform(X)
    replaced = {} if markers is None else markers[[c for c in columns if c in markers.index]]
    return CleaningReport(
        n_rows=len(raw),
        missing_before=_counts(missing_before),
        missing_after=_counts(missing_after),
        markers_replaced=_counts(replaced),
        clipped={str(column): int(count) for column, count in (clipped or {}).items()},
        rows_dropped={"duplicates": int(duplicates_dropped)},
        coerced_to_missing={str(c): int(n) for c, n in (coerced_to_missing or {}).items()},
    )


def _missing(X) -> pd.Series:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return frame.isna().sum()


def _counts(series) -> dict[str, int]:
    return {str(column): int(count) for column, count in dict(series).items()}
