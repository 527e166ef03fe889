"""Joining a running tune step from another machine: ``steward tune --parent-run RUN_ID`` / ``--join``.

The tune run holds what a joining machine needs: its data run (the fixed training split and the
cleaning config), the study's name and storage. The machine runs trials only, with
:func:`mlflow_steward.tuning.join_study`; the coordinator (the tune step) writes the summary.
"""

from __future__ import annotations

from typing import Any, Callable

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps import feature_frame, load_step_inputs, pipeline_factory
from mlflow_steward.workflow._config import PipelineConfig

Echo = Callable[[str], None]

ERR_JOIN_UNKNOWN_RUN = "--parent-run {run_id}: no such run in the tracking store {uri}"
ERR_JOIN_NOT_TUNE_RUN = (
    "--parent-run {run_id}: not a tune run with workers (no tags {tags}); pass the run id that "
    "`steward tune --workers N` printed"
)
ERR_JOIN_STORAGE = (
    "--parent-run {run_id}: its study storage is logged with the password hidden ({storage}); pass --storage URL"
)


ERR_JOIN_NEEDS_STUDY = "--join: give --study-name (the study whose running tune run to join)"
ERR_JOIN_NO_RUN = (
    "--join: no RUNNING tune run of study {study!r} in experiment {experiment} after {seconds:.0f} s; "
    "start `steward tune --workers N --study-name {study}` first, or pass --parent-run"
)
JOIN_WAIT_SECONDS = 600.0


def find_tune_run(study_name: str, *, wait: float = JOIN_WAIT_SECONDS, poll: float = 2.0) -> str:
    """The newest RUNNING tune run of ``study_name`` in the current experiment, waiting for it to
    appear (workers in docker-compose or Kubernetes may start before the coordinator)."""
    import time

    import mlflow
    from mlflow_steward._compat.mlflow import current_experiment_id

    experiment = current_experiment_id()
    query = (
        f"tags.`{names.TAG_STUDY_NAME}` = '{study_name}' and tags.`{names.TAG_STEP}` = '{names.STEP_TUNE}' "
        "and attributes.status = 'RUNNING'"
    )
    deadline = time.monotonic() + wait
    while True:
        runs = mlflow.MlflowClient().search_runs(
            [experiment], filter_string=query, max_results=1, order_by=["attributes.start_time DESC"]
        )
        if runs:
            return runs[0].info.run_id
        if time.monotonic() >= deadline:
            raise StewardInputError(ERR_JOIN_NO_RUN.format(study=study_name, experiment=experiment, seconds=wait))
        time.sleep(poll)


def join_tune_step(config: PipelineConfig, parent_run_id: str | None, *, echo: Echo = print) -> Any:
    """Run more trials of a tune run's study from this machine (``steward tune --parent-run``/``--join``).

    The data, cleaning config and study come from the tune run (its data run, study name and
    storage tags); ``config.storage``/``config.study_name`` override the tags. Without
    ``parent_run_id``, the running tune run of ``config.study_name`` (see :func:`find_tune_run`).
    Returns the :class:`~mlflow_steward.tuning.WorkerReport`.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from mlflow_steward import tuning

    if parent_run_id is None:
        if not config.study_name:
            raise StewardInputError(ERR_JOIN_NEEDS_STUDY)
        parent_run_id = find_tune_run(config.study_name)
    try:
        tags = mlflow.MlflowClient().get_run(parent_run_id).data.tags
    except MlflowException as error:
        raise StewardInputError(
            ERR_JOIN_UNKNOWN_RUN.format(run_id=parent_run_id, uri=mlflow.get_tracking_uri())
        ) from error
    needed = (names.TAG_DATA_RUN, names.TAG_STUDY_NAME, names.TAG_STUDY_STORAGE)
    if any(tag not in tags for tag in needed[:2]) or not (config.storage or needed[2] in tags):
        raise StewardInputError(ERR_JOIN_NOT_TUNE_RUN.format(run_id=parent_run_id, tags=", ".join(needed)))
    storage = config.storage or tags[names.TAG_STUDY_STORAGE]
    if "***" in storage:
        raise StewardInputError(ERR_JOIN_STORAGE.format(run_id=parent_run_id, storage=storage))
    study_name = config.study_name or tags[names.TAG_STUDY_NAME]
    inputs_ = load_step_inputs(tags[names.TAG_DATA_RUN])
    spec = inputs_.spec
    echo(f"[tune] joining study {study_name} of run {parent_run_id} with {config.workers or 1} workers")
    report = tuning.join_study(
        feature_frame(spec, inputs_.train),
        inputs_.train[spec.target],
        make_pipeline=pipeline_factory(spec, inputs_.cleaning),
        storage=storage,
        study_name=study_name,
        parent_run_id=parent_run_id,
        workers=config.workers or 1,
        n_jobs=config.n_jobs,
    )
    echo(f"[tune] this machine ran {len(report.trial_numbers)} trials; the study has {report.complete} "
         f"complete, {report.pruned} pruned, {report.failed} failed")
    return report
