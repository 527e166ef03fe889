"""The gate's decision rule on synthetic predictions whose truth is known (no MLflow)."""

from __future__ import annotations

import numpy as np
import pytest

from mlflow_steward.registry import GateConfig
from mlflow_steward.registry._config import Threshold
from mlflow_steward.registry._decision import BETTER, NOT_COMPARED, OK, OVERALL, TOO_SMALL, WORSE
from mlflow_steward.registry._gate import compare, first_candidate, strata_from_masks

FAST = GateConfig(n_resamples=500, random_state=0)


def _data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(100.0, 20.0, n)
    errors = rng.normal(0.0, 10.0, n)
    return y, errors


def _masks(n, sizes):
    """Slices of column 'g' with the given sizes, in order (they partition the rows)."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    assert len(labels) == n
    return {("g", f"s{i}"): labels == i for i in range(len(sizes))}


def test_identical_models_pass():
    y, e = _data()
    masks = _masks(2000, [1000, 1000])
    rows, checks = compare(y, y + e, y + e, masks, metric="rmse", config=FAST)
    assert [c.passed for c in checks] == [True, True]
    overall = rows[0]
    assert overall.column == OVERALL and overall.difference.estimate == pytest.approx(0.0)
    assert all(r.verdict == OK for r in rows)


def test_clearly_worse_challenger_is_rejected():
    y, e = _data()
    rows, checks = compare(y, y + 1.2 * e, y + e, _masks(2000, [1000, 1000]), metric="rmse", config=FAST)
    overall_check = checks[0]
    assert not overall_check.passed and "is beyond" in overall_check.detail
    assert rows[0].difference.low > 0  # the whole interval says worse
    assert rows[0].verdict == WORSE


def test_margin_tolerates_a_small_worsening():
    y, e = _data()
    masks = _masks(2000, [1000, 1000])
    new, old = y + 1.003 * e, y + e  # 0.3 % worse RMSE, perfectly paired
    rows, checks = compare(y, new, old, masks, metric="rmse", config=FAST)
    assert checks[0].passed  # within the default relative margin of 1 %
    assert rows[0].margin == pytest.approx(0.01 * rows[0].champion)
    _, strict = compare(y, new, old, masks, metric="rmse", config=GateConfig(n_resamples=500, margin=0.0))
    assert not strict[0].passed  # no margin: the upper bound is above 0
    _, absolute = compare(y, new, old, masks, metric="rmse",
                          config=GateConfig(n_resamples=500, margin=0.01, relative=False))
    assert not absolute[0].passed  # 0.01 RMSE units is less than the 0.03 worsening (0.3 % of 10)


def test_one_broken_slice_fails_the_gate_while_overall_passes():
    y, e = _data(n=3200)
    masks = _masks(3200, [3000, 200])
    new = y + np.where(masks[("g", "s0")], 0.95 * e, 1.5 * e)
    rows, checks = compare(y, new, y + e, masks, metric="rmse", config=FAST)
    overall_check, slice_check = checks
    assert overall_check.passed
    assert not slice_check.passed and "g=s1" in slice_check.detail
    by_value = {r.value: r for r in rows if r.column == "g"}
    assert by_value["s1"].verdict == WORSE and by_value["s0"].verdict == BETTER
    assert by_value["s1"].p_adjusted >= by_value["s1"].p_value


def test_small_slices_are_shown_not_tested():
    y, e = _data(n=2000)
    masks = _masks(2000, [1990, 10])
    new = y + np.where(masks[("g", "s1")], 5 * e, e)
    rows, checks = compare(y, new, y + e, masks, metric="rmse", config=FAST)
    small = next(r for r in rows if r.value == "s1")
    assert small.verdict == TOO_SMALL and small.difference is None and small.n == 10
    assert checks[1].passed and "1 slices tested, 500 resamples each" in checks[1].detail


def test_greater_is_better_metric_orientation():
    y, e = _data()
    masks = _masks(2000, [1000, 1000])
    rows, checks = compare(y, y + 1.3 * e, y + e, masks, metric="r2", config=FAST)
    assert rows[0].difference.high < 0  # r2(challenger) - r2(champion) < 0: worse
    assert not checks[0].passed and "lower bound" in checks[0].detail
    rows, checks = compare(y, y + 0.7 * e, y + e, masks, metric="r2", config=FAST)
    assert checks[0].passed and rows[0].difference.low > 0


def test_holm_adjustment_matches_stats():
    from mlflow_steward.stats import benjamini_hochberg, holm

    y, e = _data(n=2000)
    masks = _masks(2000, [500, 500, 500, 500])
    rng = np.random.default_rng(1)
    new = y + e * rng.uniform(0.9, 1.1, 2000)
    for correction, adjust in (("holm", holm), ("bh", benjamini_hochberg)):
        config = GateConfig(n_resamples=500, correction=correction)
        rows, _ = compare(y, new, y + e, masks, metric="rmse", config=config)
        tested = [r for r in rows if r.column == "g"]
        np.testing.assert_allclose([r.p_adjusted for r in tested], adjust([r.p_value for r in tested]))


def test_strata_use_the_first_partitioning_column_and_merge_tiny_strata():
    n = 100
    masks = {
        ("q", "big"): np.arange(n) < 90,  # a query-like slice that does not partition
        ("g", "a"): np.arange(n) < 60,
        ("g", "b"): (np.arange(n) >= 60) & (np.arange(n) < 97),
        ("g", "c"): np.arange(n) >= 97,  # 3 rows: merged into the "other" stratum
    }
    strata = strata_from_masks(masks, n)
    assert strata is not None
    assert len(np.unique(strata)) == 3 and (strata[97:] == -1).all()
    assert strata_from_masks({("q", "x"): np.ones(n, bool)}, n) is None


def test_first_candidate_thresholds_use_the_conservative_bound():
    y, e = _data()
    masks = _masks(2000, [1000, 1000])
    good = {"rmse": y + e, "r2": y + e}
    rows, checks, results = first_candidate(
        y, good, masks, metric="rmse", thresholds=[Threshold("r2", ">=", 0.0)], config=FAST
    )
    (result,) = results
    assert checks[0].passed and result.bound == result.interval.low > 0.5
    assert rows[0].verdict == NOT_COMPARED and rows[0].champion is None
    noise = np.random.default_rng(5).normal(100.0, 20.0, 2000)
    _, checks, results = first_candidate(
        y, {"rmse": noise, "r2": noise}, masks, metric="rmse",
        thresholds=[Threshold("r2", ">=", 0.0)], config=FAST,
    )
    assert not checks[0].passed and results[0].interval.high < 0
    _, checks, results = first_candidate(
        y, good, masks, metric="rmse", thresholds=[Threshold("rmse", "<=", 10.0)], config=FAST
    )
    # the point RMSE is about 10: its upper bound is above 10, so the threshold is missed
    assert results[0].bound == results[0].interval.high and not checks[0].passed


def test_slice_resamples_make_corrected_significance_reachable():
    from mlflow_steward.registry._gate import slice_resamples

    assert slice_resamples(GateConfig(n_resamples=500), 36) == 2880  # 4 * 36 / 0.05
    assert slice_resamples(GateConfig(n_resamples=5000), 36) == 5000
    # 20 slices with 500 resamples: the p-value floor 2/501 times 20 would exceed alpha, so
    # without more resamples no slice could ever be flagged. The broken one must be.
    y, e = _data(n=2000)
    masks = _masks(2000, [100] * 20)
    new = y + np.where(masks[("g", "s0")], 2.5 * e, e)
    rows, checks = compare(y, new, y + e, masks, metric="rmse", config=FAST)
    flagged = [r.value for r in rows if r.verdict == WORSE and r.column == "g"]
    assert flagged == ["s0"] and not checks[1].passed
    assert "20 slices tested" not in checks[1].detail and "g=s0" in checks[1].detail


def test_signature_comparison():
    from mlflow.models import ModelSignature
    from mlflow.models.model import Model
    from mlflow.types import ColSpec, Schema

    from mlflow_steward.registry._scoring import compare_signatures, signature_inputs

    meta = Model(signature=ModelSignature(inputs=Schema([ColSpec("long", "a"), ColSpec("string", "b")])))
    assert signature_inputs(meta) == [("a", "numeric"), ("b", "categorical")]
    steward = Model(metadata={"steward_features": [{"name": "b", "kind": "categorical"},
                                                   {"name": "a", "kind": "numeric"}]})
    assert compare_signatures(signature_inputs(steward), signature_inputs(meta)) == (
        True, "same 2 input columns and kinds as production")
    ok, detail = compare_signatures([("a", "categorical"), ("c", "numeric")], signature_inputs(meta))
    assert not ok and detail == (
        "input signature differs from production's: missing columns b; new columns c; "
        "changed kinds a (numeric -> categorical)"
    )
    assert compare_signatures(None, [("a", "numeric")])[0] is False
    assert compare_signatures([("a", "numeric")], None)[0] is True
    assert signature_inputs(Model()) is None
