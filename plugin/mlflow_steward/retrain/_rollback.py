"""``steward data rollback NAME --to V [--with-model MODEL]``: data and model rolled back together.

Everything is checked before anything moves: the dataset and its version ``V``, and with a model,
the model version to return to: the newest version of ``MODEL`` trained on ``NAME@V`` (tags
``steward.dataset_name`` and ``steward.dataset_version``) that served in production before (in the
production history) or, failing that, passed the gate. Then the dataset pointer moves (its history
records the reason), then production moves through the registry's :func:`~mlflow_steward.registry.rollback`
(lock, re-check, history). If the model rollback fails after the dataset moved (the registry lock is
held, production moved meanwhile), the error says so and gives the command that finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflow_steward import data, names
from mlflow_steward.exceptions import StewardError, StewardInputError, StewardRegistryError

NO_MODEL_VERSION = (
    "registered model {model!r} has no version trained on {dataset}@{version} that served in production or passed "
    "the gate (versions trained on it: {found}); roll the dataset back alone, or promote such a version first"
)
MODEL_NOT_EARLIER = (
    "registered model {model!r}: its version trained on {dataset}@{version} is version {target}, not earlier than "
    "production (version {production}); a rollback only goes back, use `steward promote {model} {target}`"
)
HALF_DONE = (
    "dataset {dataset} now points at version {version}, but rolling {model!r} back to version {target} failed: "
    "{error}; finish with `steward rollback {model} --to {target} --reason ...`"
)


@dataclass(frozen=True)
class DataRollback:
    """What moved: the dataset pointer (and production, with a model)."""

    dataset: str
    from_version: int | None
    to_version: int
    model: str | None = None
    model_from: str | None = None
    model_to: str | None = None
    model_note: str = ""

    def lines(self) -> list[str]:
        out = [f"dataset {self.dataset}: current version v{self.from_version} -> v{self.to_version}"]
        if self.model is not None:
            out.append(self.model_note or f"model {self.model}: production version {self.model_from} -> {self.model_to}")
        return out


def trained_on(client: Any, model: str, dataset: str, version: int) -> list[Any]:
    """Versions of ``model`` trained on ``dataset@version``, newest first."""
    escaped = model.replace("'", "\\'")
    found = client.search_model_versions(f"name = '{escaped}'")
    hits = [
        mv for mv in found
        if (mv.tags or {}).get(names.TAG_DATASET_NAME) == dataset
        and (mv.tags or {}).get(names.TAG_DATASET_VERSION) == str(version)
    ]
    return sorted(hits, key=lambda mv: int(mv.version), reverse=True)


def model_target(client: Any, model: str, dataset: str, version: int) -> tuple[str | None, str]:
    """(version to roll production back to, or None when production already is it; production)."""
    from mlflow_steward import registry

    report = registry.status(model, client=client)
    served = {e.to_version for e in report.history}
    hits = trained_on(client, model, dataset, version)
    chosen = next((mv for mv in hits if str(mv.version) in served), None) or next(
        (mv for mv in hits if (mv.tags or {}).get(names.TAG_GATE) in (names.GATE_PASSED, names.GATE_FORCED)), None)
    if chosen is None:
        found = ", ".join(str(mv.version) for mv in hits) or "none"
        raise StewardInputError(NO_MODEL_VERSION.format(model=model, dataset=dataset, version=version, found=found))
    target, production = str(chosen.version), report.production
    if production == target:
        return None, production
    if production is None or int(target) > int(production):
        raise StewardInputError(MODEL_NOT_EARLIER.format(model=model, dataset=dataset, version=version, target=target,
                                                         production=production))
    return target, production


def rollback_dataset_and_model(name: str, *, to: int | str, reason: str, model: str | None = None) -> DataRollback:
    """Point dataset ``name`` at version ``to``; with ``model``, production back to its version
    trained on it (see the module doc)."""
    import mlflow

    from mlflow_steward.data._versions._store import check_name, check_version

    check_name(name)
    check_version(to)  # bad input refused before the store is touched
    client = mlflow.MlflowClient()
    record = data.get_version(name, to)
    target = production = None
    if model is not None:
        target, production = model_target(client, model, name, record.version)
    current = data.dataset_info(name).current
    data.rollback_dataset(name, to=record.version, reason=reason)
    if model is None:
        return DataRollback(name, current, record.version)
    if target is None:
        return DataRollback(name, current, record.version, model, production, production,
                            f"model {model}: production already is version {production}, trained on {record.label}")
    from mlflow_steward import registry

    try:
        result = registry.rollback(model, to=target, reason=f"dataset {name} rolled back to v{record.version}: {reason}")
    except StewardError as exc:
        raise StewardRegistryError(HALF_DONE.format(dataset=name, version=record.version, model=model, target=target,
                                                    error=exc)) from exc
    return DataRollback(name, current, record.version, model, result.from_version, result.to_version)
