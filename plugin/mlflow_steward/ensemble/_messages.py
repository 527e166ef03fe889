"""Every error message of the ensemble builder, as module constants (tests match them exactly)."""

from __future__ import annotations

TUNE_RUN_NOT_FOUND = "tune run {run_id!r}: no such MLflow run in the tracking store {uri}"
NOT_A_TUNE_RUN = (
    "tune run {run_id!r} has no artifact tuning/best_params.json: give the parent run of a tuning "
    "(steward tune), not a trial or a run of another step"
)
NO_DATA_RUN = (
    "tune run {run_id!r} has no tag steward.data_run_id: tune through `steward tune` "
    "(workflow.tune_step), or pass the clean run that made its training data as data_run_id"
)
RUN_NOT_FOUND = "run {run_id!r}: no such MLflow run in the tracking store {uri}"
NOT_A_TRIAL = "run {run_id!r} is not a tuning trial (it has no param 'family'); give trial child runs of a tuning"
TRIAL_NOT_COMPLETE = "run {run_id!r} is a {state} trial; only COMPLETE trials can be ensemble members"
UNKNOWN_DATA = (
    "run {run_id!r}: cannot tell which data it was trained on (its tuning run {parent!r} has no tag "
    "steward.data_run_id)"
)
WRONG_TASK = (
    "run {run_id!r} is a {other} model but tune run {tune_run_id!r} is {task}: every member must solve "
    "the same task"
)
UNKNOWN_FAMILY = "run {run_id!r} has model family {family!r}, which is not a {task} family ({valid})"
DIFFERENT_FEATURES = (
    "run {run_id!r} was trained on feature columns {theirs}, not on {ours} (those of tune run "
    "{tune_run_id!r}): every member must use the same feature columns"
)
DUPLICATE_RUN = "run {run_id!r} is listed more than once"
TOO_FEW_MEMBERS = "an ensemble needs at least 2 members, got {n} ({members})"
SELECTION = "choose the members one way: runs=[...], best_n=N or per_family=True (got {given})"
BAD_BEST_N = "best_n must be an integer >= 2, got {value!r}"
NOT_ENOUGH_TRIALS = "best_n={n}: tune run {run_id!r} has only {have} distinct completed trial(s)"
BAD_METHOD = "method must be one of {valid}, got {method!r}"
OOF_MISALIGNED = (
    "tune run {run_id!r}: tuning/oof_predictions.parquet does not match the training rows of data "
    "run {data_run_id!r} ({what}); it was tuned on other rows"
)
METRIC_UNDEFINED = "metric {metric!r} is undefined on the test set, so the ensemble cannot be compared: {error}"
