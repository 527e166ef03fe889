"""The checks of one column of a window against the same column of the reference, from their profiles.

Numeric columns: ``missing``, ``mean_shift``, ``std_shift``, ``out_of_range``, ``distribution``.
Categorical columns: ``missing``, ``new_category``, ``vanished_category``, ``distribution``.
Model outputs get the same checks except ``missing``. Each check gives a score with its interval
and a p-value (see :mod:`._statistics`); whether it alarms is decided for all checks together
(:mod:`._alarms`). A check that cannot be computed says why (``no data``, ``constant``,
``too few rows``) instead of giving NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from mlflow_steward.monitoring import _statistics as st
from mlflow_steward.monitoring._config import DriftConfig
from mlflow_steward.monitoring._profile import FEATURE, ColumnProfile, Profile
from mlflow_steward.monitoring._result import (
    CONSTANT,
    NO_DATA,
    NOT_IN_REFERENCE,
    OK,
    TOO_FEW,
    TOO_MANY_CATEGORIES,
    CheckOutcome,
)
from mlflow_steward.monitoring._summarize import CATEGORICAL, EMPTY_MOMENTS

NUMERIC_CHECKS = ("missing", "mean_shift", "std_shift", "out_of_range", "distribution")
CATEGORICAL_CHECKS = ("missing", "new_category", "vanished_category", "distribution")


class _Column:
    """Builds the outcomes of one column: shared fields filled in once."""

    def __init__(self, ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig) -> None:
        self.ref, self.cur, self.config = ref, cur, config
        self.z = float(special.ndtri(0.5 + config.confidence / 2))
        self.out: list[CheckOutcome] = []

    def add(self, check: str, status: str = OK, **values) -> None:
        for key in ("score", "low", "high", "p_value", "reference", "current"):
            if key in values and values[key] is not None:
                values[key] = float(values[key])
        n_ref = values.pop("n_reference", self.ref.count)
        n_cur = values.pop("n_current", self.cur.count)
        self.out.append(CheckOutcome(
            column=self.ref.name, role=self.ref.role, check=check, status=status,
            threshold=self.config.min_effect.of(check), n_reference=int(n_ref), n_current=int(n_cur), **values,
        ))  # fmt: skip

    def untested(self, checks: tuple[str, ...], status: str, note: str) -> None:
        for check in checks:
            self.add(check, status, note=note)


def _missing(col: _Column) -> None:
    ref, cur = col.ref, col.cur
    if ref.rows == 0:
        col.add("missing", NO_DATA, note="no training rows", n_reference=0, n_current=cur.rows)
        return
    k, n, m, N = cur.missing, cur.rows, ref.missing, ref.rows
    low, high = st.newcombe(k, n, m, N, col.z)
    col.add("missing", score=k / n - m / N, low=low, high=high, p_value=st.fisher_greater(k, n, m, N),
            reference=m / N, current=k / n, n_reference=N, n_current=n)  # fmt: skip


def _distribution(col: _Column, rng: np.random.Generator, reference: np.ndarray, current: np.ndarray) -> None:
    cells = st.merge_cells(reference, current, col.config.min_expected)
    _, df, p = st.chi_square(cells)
    if df < 1:
        col.add("distribution", TOO_FEW, note=f"too few values for {col.config.min_expected:g} expected per bin")
        return
    score, low, high = st.corrected_psi(cells, confidence=col.config.confidence,
                                        n_resamples=col.config.n_resamples, rng=rng)  # fmt: skip
    col.add("distribution", score=score, low=low, high=high, p_value=p, note=f"{df + 1} bins")


def _numeric(col: _Column, rng: np.random.Generator) -> None:
    ref, cur = col.ref, col.cur
    value_checks = ("mean_shift", "std_shift", "out_of_range", "distribution")
    if ref.count == 0:
        return col.untested(value_checks, NO_DATA, "no values in training")
    if cur.count == 0:
        return col.untested(value_checks, NO_DATA, "no values in the window")
    rm, cm = ref.moments or EMPTY_MOMENTS, cur.moments or EMPTY_MOMENTS
    ref_std = rm.std
    if ref.count < 2 or not ref_std > 0:
        col.untested(("mean_shift", "std_shift"), CONSTANT, f"training values are constant ({ref.minimum:g})")
    elif cur.count < 2:
        col.untested(("mean_shift", "std_shift"), TOO_FEW, "fewer than 2 values in the window")
    else:
        pooled = rm.merge(cm)
        _, p = st.mean_test(rm.count, rm.mean, cm.count, cm.mean, pooled.m2, pooled.m3)
        se = np.sqrt(cm.variance / cm.count + rm.variance / rm.count) / ref_std
        shift = (cm.mean - rm.mean) / ref_std
        col.add("mean_shift", score=shift, low=shift - col.z * se, high=shift + col.z * se, p_value=p,
                reference=rm.mean, current=cm.mean)  # fmt: skip
        scores = st.scale_scores(np.asarray(ref.counts))
        _, p = st.score_test(scores, np.asarray(ref.counts), np.asarray(cur.counts))
        ratio = cm.std / ref_std
        low, high = _ratio_interval(rm, cm, col.z, ratio)
        col.add("std_shift", score=ratio - 1, low=low - 1, high=high - 1, p_value=None if np.isnan(p) else p,
                status=OK if not np.isnan(p) else CONSTANT, reference=ref_std, current=cm.std,
                note="" if not np.isnan(p) else "training values fill one bin")  # fmt: skip
    k = cur.counts[0] + cur.counts[-1]
    low, high = st.wilson(k, cur.count, col.z)
    col.add("out_of_range", score=k / cur.count, low=low, high=high,
            p_value=st.out_of_range_p(k, cur.count, ref.count), reference=(ref.counts[0] + ref.counts[-1]) / ref.count,
            current=k / cur.count, note=f"training range [{ref.layout.low:.6g}, {ref.layout.high:.6g}]")  # fmt: skip
    _distribution(col, rng, np.asarray(ref.counts), np.asarray(cur.counts))


def _ratio_interval(rm, cm, z: float, ratio: float) -> tuple[float, float]:
    """Interval of std ratio from the log variance ratio (delta method with each sample's kurtosis)."""
    if ratio == 0 or not np.isfinite(ratio):
        return ratio, ratio

    def var_log(m) -> float:
        kurtosis = m.count * m.m4 / (m.m2 * m.m2) if m.m2 > 0 else 3.0
        return max(kurtosis - (m.count - 3) / (m.count - 1), 0.0) / m.count

    se = np.sqrt(var_log(rm) + var_log(cm))
    log_ratio = np.log(ratio)
    return float(np.exp(log_ratio - z * se / 2)), float(np.exp(log_ratio + z * se / 2))


def _categorical(col: _Column, rng: np.random.Generator) -> None:
    ref, cur = col.ref, col.cur
    value_checks = ("new_category", "vanished_category", "distribution")
    if ref.count == 0:
        return col.untested(value_checks, NO_DATA, "no values in training")
    if cur.count == 0:
        return col.untested(value_checks, NO_DATA, "no values in the window")
    k, n, N = cur.counts[-1], cur.count, ref.count
    low, high = st.wilson(k, n, col.z)
    examples = ", ".join(f"{value!r} ({count / n:.1%})" for value, count in cur.unseen[:5])
    if ref.layout.truncated:
        col.add("new_category", TOO_MANY_CATEGORIES, score=k / n, low=low, high=high, current=k / n,
                note=f"training had {ref.layout.truncated} categories beyond the {len(ref.layout.categories)} kept: "
                     "new ones cannot be told from rare ones")  # fmt: skip
    else:
        largest = cur.unseen[0][1] if cur.unseen else 0
        reference_counts, current_counts = np.asarray(ref.counts[:-1]), np.asarray(cur.counts[:-1])
        pooled = (reference_counts + current_counts)[current_counts > 0]
        p = st.new_category_p(largest, int(k), pooled, n, N)
        col.add("new_category", score=k / n, low=low, high=high, p_value=p, reference=0.0, current=k / n,
                note=f"unseen: {examples}" if examples else "")  # fmt: skip
    reference_counts, current_counts = np.asarray(ref.counts[:-1]), np.asarray(cur.counts[:-1])
    p, share = st.vanished_p(reference_counts, current_counts, N, n, others=cur.unseen_distinct)
    gone = [c for c, r, m in zip(ref.layout.categories, reference_counts, current_counts) if r > 0 and m == 0]
    low, high = st.wilson(round(share * N), N, col.z)
    col.add("vanished_category", score=share, low=low if share else 0.0, high=high if share else 0.0, p_value=p,
            reference=share, current=0.0, note=("absent: " + ", ".join(map(repr, gone[:5]))) if gone else "")  # fmt: skip
    # Cells follow the pooled counts (training + window), never the training counts alone: which
    # categories look rare in training depends on the training sample, and on their own their counts
    # would be biased (regression to the mean). Categories training never saw join the rare cell.
    ref_counts, cur_counts = np.asarray(ref.counts), np.asarray(cur.counts)
    pooled_counts = ref_counts[:-1] + cur_counts[:-1]
    need = col.config.min_expected * (N + n) / min(N, n)
    frequent = np.flatnonzero(pooled_counts >= need)
    frequent = frequent[np.argsort(-pooled_counts[frequent], kind="stable")]
    rare = np.setdiff1d(np.arange(len(ref_counts)), frequent)
    _distribution(col, rng, np.append(ref_counts[frequent], ref_counts[rare].sum()),
                  np.append(cur_counts[frequent], cur_counts[rare].sum()))


def column_checks(ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig, rng: np.random.Generator) -> list[CheckOutcome]:
    """Every check of one column (untested ones say why)."""
    col = _Column(ref, cur, config)
    if ref.role == FEATURE:
        _missing(col)
    if ref.kind == CATEGORICAL:
        _categorical(col, rng)
    else:
        _numeric(col, rng)
    return col.out


def run_checks(reference: Profile, current: Profile, config: DriftConfig, *, extra_columns: tuple[str, ...] = (),
               skip: frozenset[str] = frozenset()) -> list[CheckOutcome]:  # fmt: skip
    """The checks of every reference column present in ``current`` (a missing model output gets one
    ``no data`` line), then a ``not in reference`` line per extra column of the window."""
    rng = np.random.default_rng(config.random_state)
    out: list[CheckOutcome] = []
    for ref in reference.columns:
        if ref.name in skip:
            continue
        if ref.name not in current:
            out.append(CheckOutcome(column=ref.name, role=ref.role, check="presence", status=NO_DATA,
                                    n_reference=ref.count, note="not in the window (no model outputs given)"))  # fmt: skip
            continue
        out.extend(column_checks(ref, current.column(ref.name), config, rng))
    for name in extra_columns:
        out.append(CheckOutcome(column=name, role=FEATURE, check="presence", status=NOT_IN_REFERENCE,
                                note="column is not in the reference profile; not checked"))  # fmt: skip
    return out
