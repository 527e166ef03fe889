"""``steward retrain NAME``: the current dataset version → clean → tune → train → register → gate →
promote or not, with a report of the cycle. Safe to run from cron.

* **Checked first.** The dataset, its current version, the model name and every configuration are
  checked before anything is written (bad input: StewardInputError, exit 2).
* **One at a time.** The whole retrain holds the dataset's retrain lease (experiment tag
  ``steward.retrain_lock``, renewed every ``lock_ttl/4`` s while the process lives): a second
  retrain waits up to ``lock_wait`` s, then runs on what the first left. A killed holder's lease is
  broken at once from the same machine, after ``lock_ttl`` from others.
* **Idempotent.** A retrain is keyed by the dataset version (number and digest), the model, the
  configuration and the code version (``steward.retrain_key``); when a FINISHED retrain run with
  that key exists in the experiment, nothing is done. Inside, every step is reused by its step key.
* **Crash-safe.** Nothing serves until the registry's ``promote`` moves ``production`` (its own
  lock, re-check, intent/confirm history); the dataset pointer moves only in a test-set refresh
  (intent/confirm). A kill anywhere leaves both where they were; the killed runs stay RUNNING
  (never reused) and are closed FAILED by the next retrain, which reuses the finished steps and
  gates a version the killed one registered, or marks such a version not deployable (see
  :mod:`._orphans`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow_steward import data, names, steps
from mlflow_steward.data._versions._killpoint import kill_point
from mlflow_steward._process import ProcessId
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.retrain import _orphans, _testset
from mlflow_steward.retrain._config import RetrainConfig

Echo = Callable[[str], None]

EXIT_PROMOTED_OR_UNCHANGED = 0
EXIT_GATE_REJECTED = 1  # the challenger was not promoted (errors exit with 2)

TEST_SET_TOO_SMALL = (
    "dataset {label} has {rows} test rows; the gate needs at least {needed} (retrain config min_test_rows): add "
    "data, or create the dataset with a larger --test-share"
)


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retrain did (``reused``: nothing new since retrain run ``run_id``)."""

    dataset: str
    version: int
    model_name: str
    run_id: str
    reused: bool
    candidate: str | None = None
    production_before: str | None = None
    production_after: str | None = None
    decision: dict[str, Any] | None = None
    refreshed: int | None = None  # the refresh version made before training, if any
    warnings: tuple[str, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def promoted(self) -> bool:
        return bool(self.decision and self.decision.get("promoted"))

    @property
    def exit_code(self) -> int:
        if self.reused or self.promoted or self.decision is None:
            return EXIT_PROMOTED_OR_UNCHANGED
        return EXIT_GATE_REJECTED

    def summary(self) -> str:
        label = f"{self.dataset}@{self.version}"
        if self.reused:
            return (f"nothing new: retrain run {self.run_id} already retrained {self.model_name!r} on {label} with this "
                    f"configuration and code (production: version {self.production_after or '–'})")
        if self.decision is None:
            return (f"{self.model_name!r} version {self.candidate} (trained on {label}) already is production; "
                    "nothing to gate")
        verdict = "PROMOTED" if self.promoted else "NOT PROMOTED"
        return (f"{verdict}: {self.model_name!r} version {self.candidate} trained on {label}; production: version "
                f"{self.production_before or '–'} -> {self.production_after or '–'}")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "dataset", "version", "model_name", "run_id", "reused", "candidate", "production_before",
            "production_after", "refreshed", "warnings")} | {"promoted": self.promoted, "exit_code": self.exit_code,
                                                           "decision": self.decision}


def retrain_key(config: RetrainConfig, record: Any) -> str:
    payload = json.dumps({"dataset": record.name, "version": record.version, "digest": record.digest,
                          "config": config.key_fields(), "code": steps.code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _production(client: Any, model: str) -> Any:
    """The production model version of ``model`` (None when there is none or no such model)."""
    from mlflow.exceptions import MlflowException

    try:
        version = (client.get_registered_model(model).aliases or {}).get(names.ALIAS_PRODUCTION)
    except MlflowException:
        return None
    return None if version is None else client.get_model_version(model, str(version))


def _warm_start(client: Any, production: Any) -> list[dict[str, Any]]:
    """The production model's best trial (family + parameters), from its tune run; [] if unknown."""
    if production is None or not production.run_id:
        return []
    try:
        tune_run = client.get_run(production.run_id).data.tags.get(names.TAG_TUNE_RUN)
        if not tune_run:
            return []
        best = steps.best_trial(tune_run)
    except Exception:  # an older or foreign production model: no warm start
        return []
    return [{"family": best["family"], "params": best["params"]}]


def _cleaning(config: RetrainConfig, client: Any, production: Any) -> Any:
    """The configured cleaning, else the production model's (its data run's), else the defaults."""
    from mlflow_steward.cleaning import CleaningConfig

    if config.cleaning is not None:
        return config.cleaning
    if production is not None and production.run_id:
        try:
            data_run = client.get_run(production.run_id).data.tags.get(names.TAG_DATA_RUN)
            if data_run:
                local = client.download_artifacts(data_run, steps.CLEANING_CONFIG_ARTIFACT)
                return CleaningConfig.from_dict(json.loads(Path(local).read_text()))
        except Exception:  # a foreign production model: defaults
            pass
    return CleaningConfig()


def _experiment_id() -> str:
    import mlflow

    active = mlflow.active_run()
    if active is not None:
        return active.info.experiment_id
    from mlflow_steward._compat.mlflow import current_experiment_id

    return current_experiment_id() or mlflow.get_experiment_by_name("Default").experiment_id


def _find_done(client: Any, experiment_id: str, key: str) -> Any:
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{names.TAG_RETRAIN_KEY}` = '{key}' and attributes.status = 'FINISHED'",
        max_results=1, order_by=["attributes.start_time DESC"],
    )
    return runs[0] if runs else None


def check(config: RetrainConfig) -> tuple[Any, Any]:
    """What the configuration cannot check alone, before any write: the dataset exists, has a
    current version with enough test rows. Returns (dataset info, current record)."""
    info = data.dataset_info(config.dataset)
    record = data.get_version(config.dataset)
    if record.rows.get("test", 0) < config.min_test_rows:
        raise StewardInputError(TEST_SET_TOO_SMALL.format(label=record.label, rows=record.rows.get("test", 0),
                                                          needed=config.min_test_rows))
    return info, record


def retrain(config: RetrainConfig | dict, *, echo: Echo = print) -> RetrainOutcome:
    """Retrain ``config.model_name`` on the current version of ``config.dataset`` (see the module doc)."""
    import mlflow

    if not isinstance(config, RetrainConfig):
        config = RetrainConfig.from_dict(config)
    check(config)
    client = mlflow.MlflowClient()
    lease = data.dataset_lock(config.dataset, key=names.TAG_RETRAIN_LOCK, purpose=f"retrain {config.model_name}",
                              ttl=config.lock_ttl, wait=config.lock_wait, heartbeat=config.lock_ttl / 4)
    echo(f"[retrain] taking the retrain lock of dataset {config.dataset} (waits up to {config.lock_wait:.0f} s "
         "for a retrain in progress)")
    with lease:
        kill_point("retrain: locked")
        return _locked(config, client, lease, echo)


def _locked(config: RetrainConfig, client: Any, lease: Any, echo: Echo) -> RetrainOutcome:
    import mlflow

    experiment_id = _experiment_id()
    model = config.model_name
    info, record = check(config)  # again, under the lock: another process may have moved things
    production = _production(client, model)
    warnings: list[str] = []
    refreshed = None
    counted = _testset.usage(client, model, info)
    _, promotions = counted.of_generation(record.generation)
    if promotions >= config.max_promotions:
        refreshed, note = _refresh(config, client, record, production, promotions, echo)
        if refreshed is not None:
            info, record = check(config)
        elif note:
            warnings.append(note)
    key = retrain_key(config, record)
    done = _find_done(client, experiment_id, key)
    production_version = None if production is None else str(production.version)
    if done is not None:
        echo(f"[retrain] nothing new since retrain run {done.info.run_id} ({record.label}, same configuration and code)")
        return RetrainOutcome(record.name, record.version, model, done.info.run_id, True,
                              production_before=production_version, production_after=production_version)
    tags = {names.TAG_STEP: names.STEP_RETRAIN, names.TAG_RETRAIN_KEY: key, names.TAG_DATASET_NAME: record.name,
            names.TAG_DATASET_VERSION: str(record.version), names.TAG_MODEL_NAME: model,
            names.TAG_OWNER: ProcessId.current().to_json()}
    with mlflow.start_run(run_name=f"retrain {model} on {record.label}", tags=tags) as run:
        run_id = run.info.run_id
        orphans = _orphans.close_orphans(client, experiment_id, dataset=record.name, model=model, by=run_id)
        for orphan in orphans:
            echo(f"[retrain] closed the killed retrain run {orphan.run_id} as FAILED")
        kill_point("retrain: started")
        outcome = _cycle(config, client, lease, record, production, run_id, echo, warnings, refreshed)
        _orphans.settle(client, model, orphans, candidate=outcome.candidate, by=run_id)
        kill_point("retrain: before finish")
    return outcome


def _refresh(config: RetrainConfig, client: Any, record: Any, production: Any, promotions: int,
             echo: Echo) -> tuple[int | None, str | None]:
    """A refreshed test set from the batches production never trained on, or the warning why not."""
    _, parts = data.load_version(record.name, record.version)
    trained = None
    tags = {} if production is None else (production.tags or {})
    if tags.get(names.TAG_DATASET_NAME) == record.name and tags.get(names.TAG_DATASET_VERSION, "").isdigit():
        try:
            _, trained = data.load_version(record.name, int(tags[names.TAG_DATASET_VERSION]))
        except StewardInputError:
            trained = None
    fresh = data.fresh_batches(parts, trained)
    reason = (f"test set generation {record.generation} decided {promotions} promotions (limit "
              f"{config.max_promotions}): refreshed from batches {', '.join(map(str, fresh)) or '–'}")
    try:
        refreshed = data.refresh_test_set(record.name, fresh=fresh, min_rows=config.refresh_min_rows, reason=reason)
    except StewardInputError as exc:
        note = _testset.overuse_warning(record.name, record.generation, promotions, config.max_promotions,
                                        _testset.REMEDY_DATA.format(why=exc))
        echo(f"[retrain] WARNING {note}")
        return None, note
    echo(f"[retrain] {reason}: {refreshed.label}, {refreshed.rows['test']:,} test rows (generation "
         f"{refreshed.generation}), {refreshed.rows['retired']:,} retired")
    return refreshed.version, None


def _cycle(config: RetrainConfig, client: Any, lease: Any, record: Any, production: Any, run_id: str, echo: Echo,
           warnings: list[str], refreshed: int | None) -> RetrainOutcome:
    import mlflow

    from mlflow_steward.retrain._report import cycle_report, log_report

    model = config.model_name
    settings = dataclasses.replace(config, register=False)
    _, parts = data.load_version(record.name, record.version)
    spec = data.dataset_settings(record.name).spec
    cleaning = _cleaning(config, client, production)
    data_step = steps.version_data_step(record, parts, cleaning, spec=spec, reuse=config.reuse, echo=echo)
    kill_point("retrain: data step done")
    warm = _warm_start(client, production) if config.warm_start else []
    tune = steps.tune_step(settings, data_step.run_id, warm_start=warm, echo=echo)
    kill_point("retrain: tuned")
    from mlflow_steward.monitoring import model_reference_profile

    train = steps.train_step(settings, data_step.run_id, tune.run_id, reference_profile=model_reference_profile,
                             echo=echo)
    kill_point("retrain: trained")
    candidate = steps.register_once(model, run_id=train.run_id, data_run_id=data_step.run_id, spec=spec, echo=echo)
    kill_point("retrain: registered")
    ensemble = None
    if config.ensemble:
        ensemble = _ensemble(config, tune.run_id, data_step.run_id, echo)
        if ensemble is not None and ensemble.beats_best_member and ensemble.model_version:
            candidate = str(ensemble.model_version)
    mlflow.set_tags({names.TAG_DATA_RUN: data_step.run_id, names.TAG_TUNE_RUN: tune.run_id,
                     names.TAG_TRAIN_RUN: train.run_id, names.TAG_MODEL_VERSION: candidate})
    production_before = None if production is None else str(production.version)
    lease.verify()  # a retrain that lost its lease (stalled past lock_ttl) must not promote
    decision = _gate(config, client, candidate, production_before, record, echo)
    kill_point("retrain: gated")
    info = data.dataset_info(record.name)
    counted = _testset.usage(client, model, info)
    _testset.write_usage(client, info, counted)
    if decision is not None:
        note = warnings[0] if warnings else _decision_warning(config, record, counted, decision)
        if note:
            if note not in warnings:
                warnings.append(note)
            from mlflow_steward import registry

            registry.warn_testset_overused(model, candidate, note, gate_run_id=decision.get("gate_run_id"), client=client)
            echo(f"[gate] WARNING {note}")
    after = _production(client, model)
    outcome = RetrainOutcome(
        record.name, record.version, model, run_id, False, candidate, production_before,
        None if after is None else str(after.version), decision, refreshed, tuple(warnings),
    )
    report = cycle_report(outcome, record=record, data_run_id=data_step.run_id, tune_run_id=tune.run_id,
                          train=train, warm_start=warm, ensemble=ensemble, usage=counted)
    log_report(report, outcome)
    return dataclasses.replace(outcome, report=report)


def _decision_warning(config: RetrainConfig, record: Any, counted: Any, decision: dict) -> str | None:
    """The overuse warning for a decision made on a generation already at its promotion limit."""
    _, promotions = counted.of_generation(record.generation)
    before = promotions - (1 if decision.get("promoted") else 0)
    return _testset.overuse_warning(record.name, record.generation, before, config.max_promotions,
                                    _testset.REMEDY_REFRESH if before < config.max_promotions else
                                    _testset.REMEDY_DATA.format(why="no refresh was possible"))


def _ensemble(config: RetrainConfig, tune_run_id: str, data_run_id: str, echo: Echo) -> Any:
    from mlflow_steward.ensemble import build_and_compare

    outcome = build_and_compare(tune_run_id, method=config.ensemble, data_run_id=data_run_id,
                                register=config.model_name, register_only_if_better=True,
                                random_state=config.random_state, reuse=config.reuse, echo=echo)
    echo(f"[ensemble] {'kept: it goes to the gate' if outcome.beats_best_member else 'not kept'}")
    return outcome


def _gate(config: RetrainConfig, client: Any, candidate: str, production: str | None, record: Any,
          echo: Echo) -> dict[str, Any] | None:
    """The gate decision on ``candidate`` (a dict like ``gate/decision.json``): made now, or read back
    when the version was gated already (a retrain resumed after a kill); None when it is production."""
    from mlflow_steward import registry

    if candidate == production:
        echo(f"[gate] version {candidate} already is production")
        return None
    mv = client.get_model_version(config.model_name, candidate)
    gate_run = (mv.tags or {}).get(names.TAG_GATE_RUN)
    if (mv.tags or {}).get(names.TAG_GATE) and gate_run:
        local = client.download_artifacts(gate_run, names.ARTIFACT_GATE_DECISION)
        decision = json.loads(Path(local).read_text())
        echo(f"[gate] version {candidate} was gated already (run {gate_run}): {decision.get('verdict')}")
        return decision
    decision = registry.promote(config.model_name, candidate, config=config.gate,
                                reason=f"retrain on {record.label}")
    echo(f"[gate] {decision.summary()}")
    return decision.to_dict()
