"""Which runs go into an ensemble: by id, the best N trials of a tuning, or each family's best.

A member is a tuning trial child run (``tuning/_trial_logging.py``): params ``family``, the
estimator's params (as strings) and ``trial_number``; tags ``steward.trial_state`` and
``mlflow.parentRunId``; metric ``cv_<scoring>_mean``. The reference is the tuning parent run given
by the user (``tuning/best_params.json``, tag ``steward.data_run_id``). A member of another tuning
is accepted only when it solves the same task on the same feature columns; its params are then
refitted on the reference tuning's training rows and folds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_steward import names
from mlflow_steward._paging import every_page
from mlflow_steward.exceptions import StewardInputError, check_scalar

from . import _messages as msg

FAMILY_PARAM = names.PARAM_FAMILY  # params of a trial child run (tuning logs them)
TRIAL_NUMBER_PARAM = names.PARAM_TRIAL_NUMBER
STATE_COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class TuneContext:
    """The reference tuning: its run, data run, task, scoring and folds."""

    run_id: str
    experiment_id: str
    data_run_id: str
    task: str
    scoring: str
    direction: str  # "minimize" | "maximize"
    cv: int
    random_state: int | None
    features: tuple[str, ...]
    best_params: Mapping[str, Any]  # the content of tuning/best_params.json

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"


@dataclass(frozen=True)
class Member:
    """One ensemble member: a trial run and the estimator it describes."""

    name: str
    run_id: str
    family: str
    params: Mapping[str, Any]
    trial_number: int | None
    cv_score: float | None  # the trial's mean CV score (tuning's scoring)
    tune_run_id: str  # the trial's parent run


def _client(client: Any = None) -> Any:
    import mlflow

    return client or mlflow.MlflowClient()


def _get_run(client: Any, run_id: str, message: str) -> Any:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        raise StewardInputError(message.format(run_id=run_id, uri=mlflow.get_tracking_uri())) from None


def _json_artifact(run_id: str, artifact: str) -> dict[str, Any] | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact)
    except (MlflowException, OSError):
        return None
    return json.loads(Path(local).read_text())


def _data_run_facts(client: Any, data_run_id: str) -> tuple[str, tuple[str, ...]]:
    """``(task, feature columns)`` recorded by a clean run."""
    from mlflow_steward.data import DatasetSpec

    tags = client.get_run(data_run_id).data.tags
    text = tags.get(names.TAG_SPEC)
    if text is None:
        document = _json_artifact(data_run_id, names.ARTIFACT_DATASET_SPEC)
        text = json.dumps(document)
    spec = DatasetSpec.from_json(text)
    return spec.task, tuple(spec.feature_columns())


def read_tune_run(tune_run_id: str, *, data_run_id: str | None = None, client: Any = None) -> TuneContext:
    """The reference tuning parent run (errors name the run and say what is missing)."""
    client = _client(client)
    run = _get_run(client, tune_run_id, msg.TUNE_RUN_NOT_FOUND)
    document = _json_artifact(tune_run_id, names.ARTIFACT_BEST_PARAMS)
    if document is None:
        raise StewardInputError(msg.NOT_A_TUNE_RUN.format(run_id=tune_run_id))
    data_run_id = data_run_id or run.data.tags.get(names.TAG_DATA_RUN)
    if not data_run_id:
        raise StewardInputError(msg.NO_DATA_RUN.format(run_id=tune_run_id))
    from mlflow_steward.tuning import TuneConfig

    task, features = _data_run_facts(client, data_run_id)
    folds = document.get("cv", {})
    return TuneContext(
        run_id=tune_run_id,
        experiment_id=run.info.experiment_id,
        data_run_id=data_run_id,
        task=task,
        scoring=document["scoring"],
        direction=document["direction"],
        cv=int(folds.get("n_splits", run.data.params.get("cv", TuneConfig.cv))),
        random_state=folds.get("random_state"),
        features=features,
        best_params=document,
    )


def parse_param(text: str) -> Any:
    """A logged param string back to a value: int, float, bool, None, else the string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def _family_best(context: TuneContext) -> dict[str, dict[str, Any]]:
    """run id -> that family's entry in best_params.json (params with their native types)."""
    families = context.best_params.get("families", {})
    return {entry["run_id"]: {"family": name, **entry} for name, entry in families.items() if entry.get("run_id")}


def _member_from_run(run: Any, context: TuneContext) -> Member:
    params = dict(run.data.params)
    family = params.pop(FAMILY_PARAM)
    trial = params.pop(TRIAL_NUMBER_PARAM, None)
    best = _family_best(context).get(run.info.run_id)
    if best and best["family"] == family:
        natural = dict(best["params"])  # native types, as tuning recorded them
    else:
        natural = {k: parse_param(v) for k, v in params.items()}
    score = run.data.metrics.get(f"cv_{context.scoring}_mean")
    return Member(
        name=family,
        run_id=run.info.run_id,
        family=family,
        params=natural,
        trial_number=int(trial) if trial is not None else None,
        cv_score=score,
        tune_run_id=run.data.tags.get(names.MLFLOW_PARENT_RUN_ID, ""),
    )


def _check_member_run(client: Any, run_id: str, context: TuneContext) -> Any:
    from mlflow_steward.tuning import FAMILIES

    run = _get_run(client, run_id, msg.RUN_NOT_FOUND)
    if FAMILY_PARAM not in run.data.params:
        raise StewardInputError(msg.NOT_A_TRIAL.format(run_id=run_id))
    state = run.data.tags.get(names.TAG_TRIAL_STATE, STATE_COMPLETE)
    if state != STATE_COMPLETE or run.info.status != "FINISHED":
        shown = state if state != STATE_COMPLETE else run.info.status
        raise StewardInputError(msg.TRIAL_NOT_COMPLETE.format(run_id=run_id, state=shown))
    parent = run.data.tags.get(names.MLFLOW_PARENT_RUN_ID, "")
    if parent != context.run_id:
        data_run = _get_run(client, parent, msg.RUN_NOT_FOUND).data.tags.get(names.TAG_DATA_RUN) if parent else None
        if not data_run:
            raise StewardInputError(msg.UNKNOWN_DATA.format(run_id=run_id, parent=parent))
        if data_run != context.data_run_id:
            task, features = _data_run_facts(client, data_run)
            if task != context.task:
                raise StewardInputError(
                    msg.WRONG_TASK.format(run_id=run_id, other=task, tune_run_id=context.run_id, task=context.task)
                )
            if sorted(features) != sorted(context.features):
                raise StewardInputError(
                    msg.DIFFERENT_FEATURES.format(
                        run_id=run_id, theirs=list(features), ours=list(context.features), tune_run_id=context.run_id
                    )
                )
    family = run.data.params[FAMILY_PARAM]
    known = FAMILIES[context.task]
    if family not in known:
        raise StewardInputError(
            msg.UNKNOWN_FAMILY.format(run_id=run_id, family=family, task=context.task, valid=", ".join(known))
        )
    return run


def _trial_runs(client: Any, context: TuneContext) -> list[Any]:
    """The tuning's COMPLETE trial child runs with a score, best first (earliest trial on ties)."""
    metric = f"cv_{context.scoring}_mean"
    trials = every_page(
        client.search_runs,
        [context.experiment_id],
        filter_string=(
            f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{context.run_id}' "
            f"and tags.`{names.TAG_TRIAL_STATE}` = '{STATE_COMPLETE}'"
        ),
    )
    runs = [r for r in trials if metric in r.data.metrics and FAMILY_PARAM in r.data.params]
    sign = -1.0 if context.greater_is_better else 1.0

    def key(run: Any) -> tuple[float, int]:
        return sign * run.data.metrics[metric], int(run.data.params.get(TRIAL_NUMBER_PARAM, 0))

    return sorted(runs, key=key)


def _name_members(members: list[Member]) -> list[Member]:
    """``family`` when unique, else ``family-<trial number>`` (``family-<run id>`` if still not unique)."""
    from dataclasses import replace

    def rename(items: list[Member], suffix) -> list[Member]:
        counts: dict[str, int] = {}
        for member in items:
            counts[member.name] = counts.get(member.name, 0) + 1
        return [replace(m, name=f"{m.family}-{suffix(m)}") if counts[m.name] > 1 else m for m in items]

    named = rename(members, lambda m: f"{m.trial_number:04d}" if m.trial_number is not None else m.run_id[:8])
    return rename(named, lambda m: m.run_id[:8])


def select_members(
    context: TuneContext,
    *,
    runs: Sequence[str] | None = None,
    best_n: int | None = None,
    per_family: bool = False,
    client: Any = None,
) -> list[Member]:
    """The members, chosen one way: ``runs`` (trial run ids), ``best_n`` (the N best distinct
    trials of the tuning) or ``per_family`` (each family's best trial, as tuning reported)."""
    given = [
        name for name, value in (("runs", runs), ("best_n", best_n), ("per_family", per_family or None))
        if value is not None
    ]
    if len(given) != 1:
        raise StewardInputError(msg.SELECTION.format(given=", ".join(given) or "none"))
    client = _client(client)
    if runs is not None:
        seen: set[str] = set()
        chosen = []
        for run_id in runs:
            if run_id in seen:
                raise StewardInputError(msg.DUPLICATE_RUN.format(run_id=run_id))
            seen.add(run_id)
            chosen.append(_member_from_run(_check_member_run(client, run_id, context), context))
    elif best_n is not None:
        check_scalar(best_n, "best_n", int, minimum=2)  # msg.BAD_BEST_N
        chosen, distinct = [], set()
        for run in _trial_runs(client, context):
            member = _member_from_run(run, context)
            key = (member.family, json.dumps(dict(member.params), sort_keys=True, default=str))
            if key not in distinct:
                distinct.add(key)
                chosen.append(member)
        if len(chosen) < best_n:
            raise StewardInputError(msg.NOT_ENOUGH_TRIALS.format(n=best_n, run_id=context.run_id, have=len(chosen)))
        chosen = chosen[:best_n]
    else:
        chosen = [
            _member_from_run(client.get_run(entry["run_id"]), context)
            for entry in context.best_params.get("families", {}).values()
            if entry.get("run_id")
        ]
    if len(chosen) < 2:
        raise StewardInputError(
            msg.TOO_FEW_MEMBERS.format(n=len(chosen), members=", ".join(m.run_id for m in chosen) or "none")
        )
    return _name_members(chosen)
