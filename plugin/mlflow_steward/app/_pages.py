"""The data behind each page: one function per page, each returning one record of ``_records``.

They take an ``MlflowClient`` (any backend) and an :class:`Access` (who asks, which models they may
read), so they run the same inside ``mlflow server``, in tests and in the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mlflow_steward import names
from mlflow_steward.app import _dataset_source as datasets
from mlflow_steward.app import _monitor_source as monitor
from mlflow_steward.app import _registry_source as registry
from mlflow_steward.app._cache import ServerCache
from mlflow_steward.app._config import AppConfig
from mlflow_steward.app._records import DatasetPage, GatePage, ModelPage, ModelsPage, ModelSummary
from mlflow_steward.exceptions import StewardError

if TYPE_CHECKING:
    from mlflow import MlflowClient

NOT_FOUND = "no registered model {name!r} that you may read"
GATE_NOT_FOUND = "no gate run {run_id!r} of model {name!r}"


class PageNotFound(StewardError, LookupError):
    """The model, gate run or dataset does not exist, or the user may not read it (HTTP 404)."""


def _everyone(_model: Any) -> bool:
    return True


@dataclass(frozen=True)
class Access:
    """Who asks (None: the app runs open) and which registered models they may read."""

    user: str | None = None
    can_read: Callable[[Any], bool] = _everyone


def models_page(
    client: MlflowClient, access: Access = Access(), config: AppConfig = AppConfig(),
    *, cache: ServerCache | None = None,
) -> ModelsPage:
    """Every readable model: production and staging with key metric, last gate, last monitor state.

    ``cache``: the server worker's cache of finished runs (None: read everything from the store)."""
    found = registry.registered_models(client)
    readable = [m for m in found if access.can_read(m)]
    experiments = registry.experiment_ids(client) if readable else []
    monitored = set(monitor.monitored_models(client)) if readable else set()
    summaries = []
    for model in sorted(readable, key=lambda m: m.name.lower()):
        aliases = {k: str(v) for k, v in (model.aliases or {}).items()}
        production = registry.version_brief(client, model.name, aliases.get(names.ALIAS_PRODUCTION), None)
        staging = registry.version_brief(
            client, model.name, aliases.get(names.ALIAS_STAGING), production.metric if production else None
        )
        last = registry.gate_runs(client, model.name, experiments, max_results=config.max_gate_runs if cache else 1,
                                  cache=cache.gates if cache else None)[:1]
        summaries.append(
            ModelSummary(
                name=model.name,
                production=production,
                staging=staging,
                last_gate=registry.gate_summary(last[0]) if last else None,
                monitor=(monitor.latest_window(client, model.name, cache.windows if cache else None)
                         if model.name in monitored else None),
                updated=(model.last_updated_timestamp or 0) / 1000.0,
            )
        )
    return ModelsPage(models=tuple(summaries), datasets=datasets.read_datasets(client), hidden=len(found) - len(readable))


def _readable_model(client: MlflowClient, name: str, access: Access) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST":
            raise PageNotFound(NOT_FOUND.format(name=name)) from None
        raise
    if not access.can_read(model):
        raise PageNotFound(NOT_FOUND.format(name=name))  # 404, not 403: existence is not leaked
    return model


def model_page(
    client: MlflowClient, name: str, access: Access = Access(), config: AppConfig = AppConfig(),
    *, cache: ServerCache | None = None,
) -> ModelPage:
    """Versions, production moves, gate decisions (the newest in full), monitor windows, datasets.

    ``cache``: the server worker's cache of finished runs (None: read everything from the store)."""
    _readable_model(client, name, access)
    report = registry.registry_status(client, name)
    versions = registry.version_rows(report)
    newest = versions[0].version if versions else None
    task = registry.task_of(client, name, report.production or newest)
    runs = registry.gate_runs(client, name, registry.experiment_ids(client), max_results=config.max_gate_runs,
                              cache=cache.gates if cache else None)
    gates = tuple(registry.gate_summary(r) for r in runs)
    key = next((g.metric for g in gates if g.metric), "") or registry.key_metric(task)
    decided = [r for r in runs if r.data.tags.get(names.TAG_GATE)][: config.gate_details]
    return ModelPage(
        name=name,
        task=task,
        key_metric=key,
        production=report.production,
        staging=report.staging,
        versions=versions,
        moves=registry.moves(report),
        gates=gates,
        gate_details=tuple(registry.gate_detail(client, r) for r in decided),
        windows=monitor.read_windows(client, name, max_windows=config.max_monitor_windows,
                                     cache=cache.windows if cache else None),
        datasets=datasets.versions_for_model(client, versions),
        notes=report.notes,
        test_values=registry.test_values(versions, report.production),
    )


def gate_page(client: MlflowClient, name: str, run_id: str, access: Access = Access()) -> GatePage:
    """One gate decision in full (older decisions link here from the model page)."""
    from mlflow.exceptions import MlflowException

    _readable_model(client, name, access)
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise PageNotFound(GATE_NOT_FOUND.format(run_id=run_id, name=name)) from None
    tags = run.data.tags
    if tags.get(names.TAG_STEP) != names.STEP_GATE or tags.get(names.TAG_MODEL_NAME) != name:
        raise PageNotFound(GATE_NOT_FOUND.format(run_id=run_id, name=name))
    return GatePage(name=name, detail=registry.gate_detail(client, run))


def dataset_page(client: MlflowClient, name: str, access: Access = Access()) -> DatasetPage:
    """A dataset's versions (sizes, ingest verdicts) and its current pointer's history."""
    versions, moves = datasets.read_dataset(client, name)
    return DatasetPage(name=name, versions=versions, moves=moves)
