"""``promote``: gate a version against production and, only if it passes, move the alias.

All or nothing. The order is:

1. read: the version, the current ``production`` version, the test set; score both models and
   decide (nothing written yet; an error here changes nothing);
2. record the evaluation in a gate run (metrics, forest plot);
3. take the registry lock (breaking it at once if its owner's process on this machine is gone,
   see :mod:`._lock`); tidy up what killed operations left (unconfirmed history intents decided,
   orphaned gate runs closed, see :mod:`._housekeeping`); re-check that ``production`` still
   points where it did when we scored (else :class:`StewardRegistryError`, nothing changed);
4. write the records: ``gate/decision.json``; for a promotion the history *intent* (tag + full
   ``gate/history.json``) and ``steward.promotion`` = pending; then the version's verdict tags
   (``steward.gate``...) and description. So a version whose gate tag says passed always has a
   history intent that the next operation decides (``steward.promotion`` = promoted or not
   applied);
5. verify the lock is still ours and ``production`` still unchanged, then move the alias: the one
   write that changes what serves;
6. confirm: the history entry becomes ``confirmed``, ``steward.promotion`` = promoted,
   ``gate/decision.json`` says promoted; the stage mirror follows, best effort;
7. release the lock (always, in ``finally``).

A failure or a kill anywhere before step 5 leaves the previous production model serving. A kill
between the intent and the confirmation leaves an unconfirmed intent, which the next promotion or
rollback decides from where the alias is (``confirmed`` or ``not applied``); readers
(:func:`~mlflow_steward.registry.status`, :func:`~mlflow_steward.registry.full_history`) apply the
same rule meanwhile, so the history shows only what took effect.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from mlflow_steward import names
from mlflow_steward.exceptions import StewardGateError, StewardRegistryError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import (
    alias_version,
    delete_alias,
    get_client,
    get_version,
    mirror_stage,
    production_version,
    recheck_production,
    set_alias,
)
from mlflow_steward.registry._config import GateConfig
from mlflow_steward.registry._decision import Check, GateDecision
from mlflow_steward.registry._describe import (
    MAX_DESCRIPTION_CHARS,
    SECTION_GATE,
    fit_description,
    gate_markdown,
    merge_section,
    pattern_for,
)
from mlflow_steward.registry._evaluate import evaluate_gate
from mlflow_steward.registry._history import (
    ACTION_FORCE,
    ACTION_PROMOTE,
    STATE_CONFIRMED,
    STATE_INTENT,
    new_entry,
    write_history,
)
from mlflow_steward.registry._housekeeping import (
    pending_text,
    promoted_text,
    set_promotion_tag,
    settle_after_error,
    tidy_up,
)
from mlflow_steward._process import whoami
from mlflow_steward.registry._lock import DEFAULT_TTL, DEFAULT_WAIT, RegistryLock
from mlflow_steward.registry._records import (
    experiment_for,
    finish_run,
    log_gate_evaluation,
    log_history,
    log_json,
    start_run,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlflow_steward.data import DatasetSpec

_logger = logging.getLogger(__name__)


def promote(
    name: str,
    version: int | str,
    *,
    data: str | Path | None = None,
    spec: DatasetSpec | str | None = None,
    config: GateConfig | Mapping[str, Any] | None = None,
    force: bool = False,
    reason: str = "",
    client: MlflowClient | None = None,
    lock_wait: float = DEFAULT_WAIT,
    lock_ttl: float = DEFAULT_TTL,
) -> GateDecision:
    """Gate version ``version`` of registered model ``name`` and promote it to ``production`` if it passes.

    The challenger and the current ``production`` model are scored on the same test set: the one
    recorded on the challenger (``steward.test_data_uri`` + ``steward.dataset_spec``), or ``data``
    (a CSV or Parquet path) with ``spec`` (a DatasetSpec or its JSON; default: the recorded spec),
    and only on its rows neither model was trained on (see :mod:`._unseen`; too few of them is a
    :class:`StewardGateError`).
    The decision rule is :class:`GateConfig`'s. Without a production model, the first candidate
    must meet ``config.thresholds`` on the conservative end of its intervals.

    ``force=True`` promotes whatever the gate says (even when the models could not be scored, a
    :class:`StewardGateError`; missing or bad input still raises) and records that it was used: tag ``steward.gate=forced`` and ``steward.forced``, the description, the history
    entry (action ``force``). ``reason`` is written into the history and the description.

    Returns the :class:`GateDecision` (``.promoted`` tells whether the alias moved). Raises
    :class:`StewardRegistryError` for an unknown model or version, a version that already is
    production, or a production alias that moved while we scored; :class:`StewardLockError` when
    another promotion holds the lock for longer than ``lock_wait`` seconds;
    :class:`StewardInputError` for a version without records and no ``data``, or a bad config;
    :class:`StewardGateError` when the models cannot be scored. In every error case the
    ``production`` alias is where it was.
    """
    client = get_client(client)
    mv = get_version(client, name, version)
    version = str(mv.version)
    config = GateConfig.coerce(config)
    champion = production_version(client, name)
    if champion == version:
        raise StewardRegistryError(msg.ALREADY_PRODUCTION.format(version=version, name=name))
    if (mv.tags or {}).get(names.TAG_DEPLOYABLE) == "false":
        raise StewardRegistryError(msg.NOT_DEPLOYABLE.format(
            version=version, name=name, reason=(mv.tags or {}).get("steward.not_deployable_reason", "")))
    try:
        decision = evaluate_gate(client, mv, champion, data=data, spec=spec, config=config)
    except StewardGateError as exc:  # the models could not be scored; bad input still raises
        if not force:
            raise
        decision = _unscored(mv, champion, config, exc)
    if force:
        decision = replace(decision, forced=True)

    experiment_id = experiment_for(client, mv)
    run_id = start_run(
        client, experiment_id=experiment_id, step=names.STEP_GATE, name=name, version=version,
        run_name=f"gate {name} v{version}",
        extra_tags={names.TAG_CHAMPION_VERSION: champion or ""} if champion else None,
    )
    ok = False
    try:
        log_gate_evaluation(client, run_id, decision)
        with RegistryLock(
            client, name, purpose=f"promote version {version}", wait=lock_wait, ttl=lock_ttl, run_id=run_id
        ) as lock:
            records = tidy_up(client, name, experiment_id=experiment_id, run_id=run_id, by=whoami())
            recheck_production(client, name, champion, f"gating version {version}")
            move = decision.passed or decision.forced
            decision = decision.with_outcome(promoted=False, gate_run_id=run_id)
            log_json(client, run_id, decision.to_dict(), names.ARTIFACT_GATE_DECISION)
            client.set_tag(run_id, names.TAG_GATE, decision.verdict)
            if not move:
                _write_version_records(client, mv, decision, reason)
            else:
                entry = new_entry(
                    records, action=ACTION_FORCE if decision.forced else ACTION_PROMOTE,
                    from_version=champion, to_version=version, by=whoami(),
                    reason=reason or decision.summary(), run_id=run_id, state=STATE_INTENT,
                )
                log_history(client, run_id, [*records, entry], names.ARTIFACT_GATE_HISTORY)
                write_history(client, name, [*records, entry])  # the intent, before any version tag
                set_promotion_tag(client, name, version, pending_text(entry))  # before the verdict
                _write_version_records(client, mv, decision, reason)
                lock.verify()
                recheck_production(client, name, champion, f"gating version {version}")
                try:
                    set_alias(client, name, names.ALIAS_PRODUCTION, version)  # the one write that serves
                except BaseException:
                    settle_after_error(client, name, by=whoami())
                    raise
                decision = decision.with_outcome(promoted=True, gate_run_id=run_id)
                _confirm(client, name, version, [*records, replace(entry, state=STATE_CONFIRMED)], decision)
                _after_move(client, name, version)
        ok = True
    finally:
        finish_run(client, run_id, ok=ok)
    return decision


def _confirm(client: MlflowClient, name: str, version: str, history: list, decision: GateDecision) -> None:
    """The alias moved: confirm the intent, tag the version promoted, rewrite ``gate/decision.json``.
    Best effort: the promotion took effect; what is not written here the next registry operation
    reconciles (the intent is decided from where the alias is)."""
    try:
        write_history(client, name, history)  # the confirmation
        set_promotion_tag(client, name, version, promoted_text(history[-1]))
        log_json(client, decision.gate_run_id or "", decision.to_dict(), names.ARTIFACT_GATE_DECISION)
    except Exception as exc:
        _logger.warning("version %s of %r is in production, but its confirmation was not written: %s", version, name, exc)


def _unscored(mv: ModelVersion, champion: str | None, config: GateConfig, exc: Exception) -> GateDecision:
    """A forced promotion's decision when the gate could not score at all."""
    return GateDecision(
        model_name=mv.name, version=str(mv.version), champion_version=champion, task=mv.tags.get(names.TAG_TASK, ""),
        metric=config.metric or "", greater_is_better=False, config=config,
        checks=(Check("scoring", False, f"the gate could not score: {exc}"),), rows=(),
    )


def _write_version_records(client: MlflowClient, mv: ModelVersion, decision: GateDecision, reason: str) -> None:
    """Tags ``steward.gate``, ``steward.gate_run_id``, ``steward.gate_reason`` (+ ``steward.forced``)
    and the gate section of the description."""
    name, version = mv.name, str(mv.version)
    client.set_model_version_tag(name, version, names.TAG_GATE, decision.verdict)
    client.set_model_version_tag(name, version, names.TAG_GATE_RUN, decision.gate_run_id or "")
    client.set_model_version_tag(name, version, names.TAG_GATE_REASON, decision.summary()[:5000])
    if decision.forced:
        client.set_model_version_tag(name, version, names.TAG_FORCED, f"by {whoami()}: {reason or 'no reason given'}"[:5000])
    current = client.get_model_version(name, version).description or ""
    rest = len(pattern_for(SECTION_GATE).sub("", current))
    section = gate_markdown(decision, by=whoami(), reason=reason, budget=MAX_DESCRIPTION_CHARS - rest - 100)
    description = fit_description(merge_section(current, SECTION_GATE, section))
    client.update_model_version(name, version, description=description)


def _after_move(client: MlflowClient, name: str, version: str) -> None:
    """Best-effort bookkeeping after the alias moved: stage mirror, ``staging`` cleared if it was us."""
    mirror_stage(client, name, version, names.STAGE_PRODUCTION, archive_existing=True)
    try:
        if alias_version(client, name, names.ALIAS_STAGING) == version:
            delete_alias(client, name, names.ALIAS_STAGING)
    except Exception as exc:  # the promotion already happened; a stale staging alias is harmless
        _logger.warning("could not clear the staging alias of %r: %s", name, exc)
