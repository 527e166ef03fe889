"""Descriptions (Markdown sections, the 5,000-character limit) and the forest plot record."""

from __future__ import annotations

from mlflow_steward.registry import GateConfig, GateDecision, GateRow, draw_forest, forest_record
from mlflow_steward.registry._decision import OK, OVERALL, WORSE, Check, Estimate
from mlflow_steward.registry._describe import (
    MAX_DESCRIPTION_CHARS,
    SECTION_CANDIDATE,
    SECTION_GATE,
    gate_markdown,
    merge_section,
)


def _decision(n_slices=3, *, forced=False, worse_at=None):
    rows = [GateRow(OVERALL, "", 1000, 95.0, 100.0, Estimate(-5.0, -8.0, -2.0), 0.001, None, 1.0, OK)]
    for i in range(n_slices):
        verdict = WORSE if i == worse_at else OK
        rows.append(GateRow("col", f"value {i}", 50, 99.0, 100.0, Estimate(-1.0 + i, -3.0, 1.0 + i),
                            0.5, 0.9 if verdict == OK else 0.01, 1.0, verdict))
    checks = (Check("overall", True, "fine"), Check("slices", worse_at is None, "slice detail"))
    return GateDecision("m", "2", "1", "regression", "rmse", False, checks, tuple(rows),
                        n_rows=1000, test_source="runs:/x/test.parquet", config=GateConfig(), forced=forced)


def test_sections_are_replaced_and_ordered():
    text = merge_section(None, SECTION_GATE, "gate one")
    text = merge_section("Written by a person.\n\n" + text, SECTION_CANDIDATE, "candidate")
    assert text.index("candidate") < text.index("gate one")  # canonical order, even when added later
    text = merge_section(text, SECTION_GATE, "gate two")
    assert "gate one" not in text and text.count("gate two") == 1
    assert text.startswith("Written by a person.")


def test_gate_markdown_fits_the_description_limit():
    decision = _decision(400, worse_at=250)
    text = gate_markdown(decision)
    assert len(text) <= MAX_DESCRIPTION_CHARS
    assert "more slice rows not shown" in text and "gate/decision.json" in text
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[1].startswith("| **overall**") and "value 250" in lines[2]  # worst slice right after


def test_forced_decision_says_so():
    text = gate_markdown(_decision(forced=True, worse_at=0), reason="hotfix", by="me@host")
    assert "⚠️ FORCED" in text and "would have **rejected**" in text and "hotfix" in text and "me@host" in text


def test_forest_record_and_figure():
    decision = _decision(5, worse_at=3)
    record = forest_record(decision)
    assert record.labels[0] == "overall" and record.labels[1] == "col=value 3"
    assert record.worse[1] and record.margin == 1.0
    figure = draw_forest(record)
    assert len(figure.axes) == 1 and figure.axes[0].get_xlabel() == "rmse: challenger - champion"
    first = GateDecision("m", "1", None, "regression", "rmse", False, (), (GateRow(OVERALL, "", 5, 1.0),))
    assert forest_record(first) is None  # nothing compared, nothing to draw


def test_decision_to_dict_is_strict_json():
    import json

    decision = _decision(2)
    data = json.loads(json.dumps(decision.to_dict(), allow_nan=False))
    assert data["verdict"] == "passed" and len(data["rows"]) == 3
    assert data["config"]["metric"] is None and data["rows"][0]["difference_low"] == -8.0
    assert list(decision.frame().columns)[:4] == ["slice", "value", "n", "champion"]
