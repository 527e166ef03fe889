"""Options shared by the pipeline commands, and their conversion into a PipelineConfig.

No option carries a default of its own: an option not given is not passed on, so the dataclass
field (``PipelineConfig``, ``TuneConfig``, ``EnsembleConfig``, ``GateConfig``...) is the one
source of every default. ``--help`` shows that default, looked up when the help is printed
(:class:`ConfigOption`), so that importing the CLI stays cheap.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable

import click

from mlflow_steward.exceptions import StewardInputError

ERR_JSON = "option {option}: expected a JSON object or a path to a JSON file, got {value!r} ({error})"
ERR_DATA_NEEDS_SPEC = "--data {data!r} needs --target COLUMN and --task regression|classification"


def config_default(path: str) -> Callable[[], Any]:
    """``"mlflow_steward.workflow._config:PipelineConfig.cv"`` -> a function returning that default
    (a dataclass field's, or a keyword default of a function: ``"module:function.reuse"``)."""
    module_name, _, attribute = path.partition(":")
    class_name, _, field_name = attribute.partition(".")

    def default() -> Any:
        import dataclasses
        import inspect

        cls = getattr(importlib.import_module(module_name), class_name)
        if not dataclasses.is_dataclass(cls):
            return inspect.signature(cls).parameters[field_name].default
        found = {f.name: f for f in dataclasses.fields(cls)}[field_name]
        if found.default is not dataclasses.MISSING:
            return found.default
        return found.default_factory()  # type: ignore[misc]

    return default


class ConfigOption(click.Option):
    """An option whose default lives in a config dataclass: shown in ``--help``, never injected.

    ``default_from`` returns the dataclass default; the option's own default stays None, so a
    command can tell "not given" (leave the dataclass default) from an explicit value.
    """

    def __init__(self, *args: Any, default_from: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("default", None)
        super().__init__(*args, **kwargs)
        self.default_from = default_from

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        if self.default_from is not None:
            value = self.default_from()
            if isinstance(value, bool) and self.secondary_opts:
                extra["default"] = (self.opts if value else self.secondary_opts)[0].lstrip("-")
            elif value is not None:
                extra["default"] = str(value)
        return extra


def option(*decls: str, default_from: str | None = None, **kwargs: Any) -> Callable:
    """``click.option`` with its default taken from a dataclass field (``"module:Class.field"``)."""
    return click.option(
        *decls, cls=ConfigOption, default_from=config_default(default_from) if default_from else None, **kwargs
    )


_PIPELINE = "mlflow_steward.workflow._config:PipelineConfig"


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


def gate_config(option_name: str, value: str | None, **overrides: Any):
    """``--gate-config`` (plus single-key options such as ``--margin``) as a GateConfig."""
    from mlflow_steward.registry._config import GateConfig

    values = parse_json_option(option_name, value)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return GateConfig.from_dict(values, source=option_name)


def evaluation_config(option_name: str, value: str | None):
    """``--evaluation-config`` as an EvaluationConfig."""
    from mlflow_steward.evaluation._config import EvaluationConfig

    return EvaluationConfig.from_dict(parse_json_option(option_name, value), source=option_name)


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
    option("--test-size", type=float, default_from=f"{_PIPELINE}.test_size", help="Fraction of rows in the test set."),
    option("--seed", type=int, default_from=f"{_PIPELINE}.random_state", help="Seed of the split, folds and models."),
    option("--reuse/--no-reuse", default_from=f"{_PIPELINE}.reuse", help="Reuse finished identical steps."),
]

_TUNE_OPTIONS = [
    option("--strategy", default_from=f"{_PIPELINE}.strategy", help="optuna or grid."),
    click.option("--families", default=None, help="Comma-separated model families (default: per task)."),
    option(
        "--n-trials", type=int, default_from=f"{_PIPELINE}.n_trials",
        help="Trials to add (default: 24 for optuna; grid: every pending grid point).",
    ),
    option("--cv", type=int, default_from=f"{_PIPELINE}.cv", help="Cross-validation folds."),
    click.option("--storage", default=None, help="Optuna storage URL (default: SQLite under .steward/)."),
    click.option("--study-name", default=None, help="Optuna study name (same name = resume)."),
    option("--n-jobs", type=int, default_from=f"{_PIPELINE}.n_jobs", help="Trials in parallel threads."),
    click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=None,
        help="Worker processes pulling trials from one study (each with --n-jobs threads); they need a "
        "--storage all of them reach, e.g. postgresql://... (default, or 0: trials run in this process).",
    ),
]

_MODEL_OPTIONS = [
    option("--model-name", default_from=f"{_PIPELINE}.model_name", help="Registered model name."),
    click.option("--evaluation-config", default=None, help="JSON object or file: EvaluationConfig fields."),
    click.option("--gate-config", default=None, help="JSON object or file: GateConfig fields."),
    option(
        "--ensemble-method",
        default_from=f"{_PIPELINE}.ensemble",
        help="Ensemble of the tuned families, kept only if it beats the best one: greedy, mean, weighted, "
        "stacking, or none.",
    ),
    option("--register/--no-register", default_from=f"{_PIPELINE}.register"),
    option("--promote/--no-promote", default_from=f"{_PIPELINE}.promote"),
]


def _apply(options: list) -> Callable:
    def decorator(function: Callable) -> Callable:
        for option_ in reversed(options):
            function = option_(function)
        return function

    return decorator


data_options = _apply(_DATA_OPTIONS)
tune_options = _apply(_TUNE_OPTIONS)
model_options = _apply(_MODEL_OPTIONS)

#: option name -> PipelineConfig field, for the options passed on as given.
_PLAIN = {
    "test_size": "test_size",
    "seed": "random_state",
    "reuse": "reuse",
    "strategy": "strategy",
    "n_trials": "n_trials",
    "cv": "cv",
    "storage": "storage",
    "study_name": "study_name",
    "n_jobs": "n_jobs",
    "model_name": "model_name",
    "register": "register",
    "promote": "promote",
}


def build_config(**kwargs: Any):
    """Parse the options into a :class:`~mlflow_steward.workflow.PipelineConfig` (every check runs here,
    before anything is written); options not given keep the dataclass defaults."""
    from mlflow_steward.workflow._config import PipelineConfig

    data = kwargs.get("data") or None
    spec = None
    if data is not None or kwargs.get("target"):
        from mlflow_steward.data import DatasetSpec

        if not kwargs.get("target") or not kwargs.get("task"):
            raise StewardInputError(ERR_DATA_NEEDS_SPEC.format(data=data))
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

        cleaning = CleaningConfig.from_dict(cleaning_dict, source="--cleaning-config")
        if spec is not None and spec.missing_markers and "missing_markers" not in cleaning_dict:
            cleaning = CleaningConfig.from_dict(
                {**cleaning_dict, "missing_markers": list(spec.missing_markers)}, source="--cleaning-config"
            )
    given: dict[str, Any] = {
        field: kwargs[option_] for option_, field in _PLAIN.items() if kwargs.get(option_) is not None
    }
    if kwargs.get("workers"):  # 0: trials in this process, as when not given
        given["workers"] = kwargs["workers"]
    if kwargs.get("families") is not None:
        given["families"] = _split(kwargs["families"])
    if kwargs.get("ensemble_method") is not None:
        method = kwargs["ensemble_method"].strip()
        given["ensemble"] = None if method.lower() == "none" else method
    if kwargs.get("evaluation_config") is not None:
        given["evaluation"] = evaluation_config("--evaluation-config", kwargs["evaluation_config"])
    if kwargs.get("gate_config") is not None:
        given["gate"] = gate_config("--gate-config", kwargs["gate_config"])
    return PipelineConfig(data=data, spec=spec, cleaning=cleaning, **given)
