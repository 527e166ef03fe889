"""Test-set reuse accounting: how many gate decisions (and promotions) each test set has decided.

Every gate decision of a model version trained on a dataset version is a decision made on that
version's test set; a test set lives on from version to version (new batches add rows to it) until
a refresh starts a new *generation*. The count is derived from the registry (the ``steward.gate``
verdict of every version of the model tagged with the dataset's name and version), so a crash can
never leave it wrong, and written onto each dataset version's run
(``steward.testset_decisions``/``steward.testset_promotions``) for people to see.

A generation may decide ``max_promotions`` promotions. Once it has, the retrain refreshes the test
set before training (``data.refresh_test_set``: a new active test set from the batches production
never trained on; the old test rows are retired, never trained on); and a decision made while the
generation is past the limit (no refresh was possible) carries the overuse warning in its verdict,
the model version's description and its gate run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from mlflow_steward import names

OVERUSED = (
    "test set generation {generation} of dataset {dataset} has already decided {promotions} promotions (limit "
    "{limit}): repeated decisions on one test set overfit to it; {remedy}"
)
REMEDY_REFRESH = "the next retrain refreshes it from the newest batches"
REMEDY_DATA = "add a new batch so that the retrain can refresh it ({why})"


@dataclass(frozen=True)
class TestsetUsage:
    """Gate decisions and promotions per dataset version, and per test-set generation."""

    decisions: dict[int, int]
    promotions: dict[int, int]
    generation_of: dict[int, int]

    def of_generation(self, generation: int) -> tuple[int, int]:
        versions = [v for v, g in self.generation_of.items() if g == generation]
        return sum(self.decisions.get(v, 0) for v in versions), sum(self.promotions.get(v, 0) for v in versions)


def usage(client: Any, model: str, info: Any) -> TestsetUsage:
    """The decisions made on each version of dataset ``info`` by versions of ``model``."""
    decisions: Counter[int] = Counter()
    promotions: Counter[int] = Counter()
    escaped = model.replace("'", "\\'")
    try:
        found = client.search_model_versions(f"name = '{escaped}'")
    except Exception:  # no such model yet
        found = []
    for mv in found:
        tags = mv.tags or {}
        if tags.get(names.TAG_DATASET_NAME) != info.name or not tags.get(names.TAG_GATE):
            continue
        version = int(tags.get(names.TAG_DATASET_VERSION, "0") or 0)
        decisions[version] += 1
        if tags[names.TAG_GATE] in (names.GATE_PASSED, names.GATE_FORCED):
            promotions[version] += 1
    return TestsetUsage(dict(decisions), dict(promotions), {v.version: v.generation for v in info.versions})


def write_usage(client: Any, info: Any, counted: TestsetUsage) -> None:
    """The counts onto each dataset version's run (only where they changed)."""
    for record in info.versions:
        decisions, promotions = counted.decisions.get(record.version, 0), counted.promotions.get(record.version, 0)
        if (decisions, promotions) != (record.decisions, record.promotions):
            client.set_tag(record.run_id, names.TAG_TESTSET_DECISIONS, str(decisions))
            client.set_tag(record.run_id, names.TAG_TESTSET_PROMOTIONS, str(promotions))


def overuse_warning(dataset: str, generation: int, promotions: int, limit: int, remedy: str) -> str | None:
    if promotions < limit:
        return None
    return OVERUSED.format(generation=generation, dataset=dataset, promotions=promotions, limit=limit, remedy=remedy)
