"""Options shared by the pipeline commands, and their conversion into a PipelineConfig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click

from mlflow_steward.exceptions import StewardInputError

ERR_JSON = "option {option}: expected a JSON object or a path to a JSON file, got {value!r} ({error})"


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_json_option(option: str, value: str | None) -> dict[str, Any]:
    """A JSON object given inline or as a file path; empty means ``{}``."""
    if value is None or not value.strip():
        return {}
    text = Path(value).read_text() if Path(value).is_file() else value
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StewardInputError(ERR_JSON.format(option=option, value=value, error=exc)) from None
    if not isinstance(parsed, dict):
        raise StewardInputError(ERR_JSON.format(option=option, value=value, error="not an object"))
    return parsed


_DATA_OPTIONS = [
    click.option("--data", default=None, help="CSV or Parquet file. Empty: the bundled housing demo."),
    click.option("--target", default=None, help="Target column (required with --data)."),
    click.option("--task", type=click.Choice(["regression", "classification"]), default=None),
    click.option("--categorical", default=None, help="Comma-separated categorical columns (default: auto-detect)."),
    click.option("--missing-markers", default=None, help="Comma-separated strings meaning missing, e.g. '?'."),
    click.option("--coerce-numeric", default=None, help="Comma-separated numeric columns whose non-number cells become missing (counted)."),
    click.option("--id-column", default=None),
    click.option("--time-column", default=None),
    click.option("--stratify-column", default=None, help="Regression: stratify the split on quantile bins of it."),
    click.option("--cleaning-config", default=None, help="JSON object or file: CleaningConfig fields."),
    click.option("--test-size", type=float, default=0.2, show_default=True),
    click.option("--seed", type=int, default=42, show_default=True),
    click.option("--reuse/--no-reuse", default=True, show_default=True, help="Reuse finished identical steps."),
]

_TUNE_OPTIONS = [
    click.option("--strategy", type=click.Choice(["optuna", "grid"]), default="optuna", show_default=True),
    click.option("--families", default=None, help="Comma-separated model families (default: per task)."),
    click.option("--n-trials", type=int, default=24, show_default=True, help="Optuna trials (grid: ignored)."),
    click.option("--cv", type=int, default=3, show_default=True, help="Cross-validation folds."),
    click.option("--storage", default=None, help="Optuna storage URL (default: SQLite under .steward/)."),
    click.option("--study-name", default=None, help="Optuna study name (same name = resume)."),
    click.option("--n-jobs", type=int, default=1, show_default=True, help="Trials in parallel threads."),
    click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Worker processes pulling trials from one study (each with --n-jobs threads); they need a "
        "--storage all of them reach, e.g. postgresql://... (0: trials run in this process).",
    ),
]

_MODEL_OPTIONS = [
    click.option("--model-name", default="steward-housing", show_default=True, help="Registered model name."),
    click.option("--evaluation-config", default=None, help="JSON object or file for the steward evaluator."),
    click.option("--gate-config", default=None, help="JSON object or file: GateConfig fields."),
    click.option(
        "--ensemble-method",
        type=click.Choice(["greedy", "mean", "weighted", "stacking", "none"]),
        default="greedy",
        show_default=True,
        help="Ensemble of the tuned families, kept only if it beats the best one ('none': skip).",
    ),
    click.option("--register/--no-register", default=True, show_default=True),
    click.option("--promote/--no-promote", default=True, show_default=True),
]


def _apply(options: list) -> Callable:
    def decorator(function: Callable) -> Callable:
        for option in reversed(options):
            function = option(function)
        return function

    return decorator


data_options = _apply(_DATA_OPTIONS)
tune_options = _apply(_TUNE_OPTIONS)
model_options = _apply(_MODEL_OPTIONS)


def build_config(**kwargs: Any):
    """Turn the parsed options into a :class:`~mlflow_steward.workflow.PipelineConfig`."""
    from mlflow_steward.workflow import PipelineConfig

    data = kwargs.get("data") or None
    spec = None
    if data is not None or kwargs.get("target"):
        from mlflow_steward.data import DatasetSpec

        if not kwargs.get("target") or not kwargs.get("task"):
            raise StewardInputError(
                f"--data {data!r} needs --target COLUMN and --task regression|classification"
            )
        spec = DatasetSpec(
            target=kwargs["target"],
            task=kwargs["task"],
            categorical=_split(kwargs.get("categorical")),
            missing_markers=_split(kwargs.get("missing_markers")) or (),
            id_column=kwargs.get("id_column") or None,
            time_column=kwargs.get("time_column") or None,
            stratify_column=kwargs.get("stratify_column") or None,
            coerce_numeric=_split(kwargs.get("coerce_numeric")) or (),
        )
    cleaning = None
    cleaning_dict = parse_json_option("--cleaning-config", kwargs.get("cleaning_config"))
    if cleaning_dict or (spec is not None and spec.missing_markers):
        from mlflow_steward.cleaning import CleaningConfig

        if spec is not None and spec.missing_markers and "missing_markers" not in cleaning_dict:
            cleaning_dict["missing_markers"] = list(spec.missing_markers)
        cleaning = CleaningConfig.from_dict(cleaning_dict)
    return PipelineConfig(
        data=data,
        spec=spec,
        cleaning=cleaning,
        test_size=kwargs.get("test_size", 0.2),
        random_state=kwargs.get("seed", 42),
        strategy=kwargs.get("strategy", "optuna"),
        families=_split(kwargs.get("families")),
        n_trials=kwargs.get("n_trials", 24),
        cv=kwargs.get("cv", 3),
        storage=kwargs.get("storage") or None,
        study_name=kwargs.get("study_name") or None,
        n_jobs=kwargs.get("n_jobs", 1),
        workers=kwargs.get("workers") or None,
        model_name=kwargs.get("model_name", "steward-housing"),
        evaluation=parse_json_option("--evaluation-config", kwargs.get("evaluation_config")),
        gate=parse_json_option("--gate-config", kwargs.get("gate_config")),
        ensemble=None if kwargs.get("ensemble_method", "greedy") == "none" else kwargs.get("ensemble_method", "greedy"),
        register=kwargs.get("register", True),
        promote=kwargs.get("promote", True),
        reuse=kwargs.get("reuse", True),
    )
