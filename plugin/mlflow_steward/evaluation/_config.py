"""``EvaluationConfig``: the evaluator's configuration, parsed once from a plain dict.

MLflow hands an evaluator a free-form ``evaluator_config`` dict. We turn it into a frozen,
typed dataclass at the boundary (``from_dict``) and pass only that around; unknown keys and
wrong types are errors naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_steward.evaluation._slice_spec import (
    DEFAULT_SLICES,
    SLICE_FIELDS,
    SliceSpec,
    parse_slice_field,
)
from mlflow_steward.exceptions import StewardInputError, check_scalar, unknown_key_error

# Every metric the evaluation knows (names as in ``mlflow_steward.stats.METRICS``).
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2", "mape")
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "f1", "roc_auc", "log_loss", "brier")
KNOWN_METRICS: tuple[str, ...] = REGRESSION_METRICS + CLASSIFICATION_METRICS
METHODS: tuple[str, ...] = ("bca", "percentile")

# Keys MLflow's built-in evaluators read. When ``mlflow.evaluate`` is called without
# ``evaluators=``, MLflow hands the same flat config to every registered evaluator, ours included;
# the plugin ignores these keys instead of failing someone else's evaluation.
MLFLOW_BUILTIN_KEYS: tuple[str, ...] = (
    "average",
    "calibration_classifier_name",
    "calibration_n_bins",
    "col_mapping",
    "eval_results_mode",
    "eval_results_path",
    "explainability_algorithm",
    "explainability_kernel_link",
    "explainability_nsamples",
    "ignore_exceptions",
    "label_list",
    "log_explainer",
    "log_model_explainability",
    "max_classes_for_multiclass_roc_pr",
    "metric_prefix",
    "sample_weights",
)

# --- error messages (module constants so tests match them exactly) ---------------------------
CONFIG_NOT_MAPPING = "evaluator_config must be a dict, got {got}"
WRONG_TYPE = "evaluator_config[{key!r}] must be {expected}, got {got!r}"
UNKNOWN_METRIC = "evaluator_config['metrics']: unknown metric {name!r}; valid metrics: {valid}"
EMPTY_METRICS = "evaluator_config['metrics'] must name at least one metric (or be None for the defaults)"
BAD_CHOICE = "evaluator_config[{key!r}] must be one of {choices}, got {got!r}"

#: Scalar fields other than the slice keys (those are parsed by ``_slice_spec``): (type, minimum,
#: maximum), with an open bound for the confidence.
_SCALARS: dict[str, tuple[type, float | None, float | None]] = {
    "confidence": (float, 0.0, 1.0),
    "n_resamples": (int, 1, None),
    "worst_n": (int, 0, None),
    "importance_repeats": (int, 1, None),
    "random_state": (int, None, None),
    "permutation_importance": (bool, None, None),
    "plots": (bool, None, None),
}


@dataclass(frozen=True)
class EvaluationConfig:
    """How to evaluate: metrics, intervals, slices, significance, error analysis.

    Parameters
    ----------
    metrics : metric names (see ``KNOWN_METRICS``); ``None`` = every metric of the task
        (regression: rmse, mae, r2, mape; classification: accuracy, f1, roc_auc, log_loss, brier).
        The first one is the *primary* metric (forest plot, permutation importance).
    confidence : confidence level of every interval.
    n_resamples : bootstrap resamples per interval.
    method : bootstrap interval method, ``"bca"`` (default) or ``"percentile"``.
    slice_columns, n_bins, slice_queries, crosses, min_slice_size, correction, alpha : the slices
        and their tests, as in :class:`~mlflow_steward.evaluation.SliceSpec` (the same keys,
        defaults and checks as the gate's); ``slices`` gives them as one ``SliceSpec``. Slices
        below ``min_slice_size`` rows are reported with status ``too_small`` (size and point
        value, no interval, never flagged); a slice is flagged when its corrected p-value is
        below ``alpha``.
    worst_n : how many worst-predicted rows to keep.
    permutation_importance : compute permutation feature importance (needs the model).
    importance_repeats : permutations per feature.
    pos_label : positive class for binary classification (default: the last class in sorted order).
    random_state : seed of every bootstrap and permutation.
    plots : draw and log the PNG plots.
    """

    metrics: tuple[str, ...] | None = None
    confidence: float = 0.95
    n_resamples: int = 2000
    method: str = "bca"
    slice_columns: tuple[str, ...] | None = DEFAULT_SLICES.slice_columns
    n_bins: int = DEFAULT_SLICES.n_bins
    slice_queries: Mapping[str, str] = field(default_factory=dict)
    crosses: tuple[tuple[str, str], ...] = DEFAULT_SLICES.crosses
    min_slice_size: int = DEFAULT_SLICES.min_slice_size
    correction: str = DEFAULT_SLICES.correction
    alpha: float = DEFAULT_SLICES.alpha
    worst_n: int = 20
    permutation_importance: bool = True
    importance_repeats: int = 3
    pos_label: Any = None
    random_state: int | None = 0
    plots: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name)))
        _validate(self)

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any] | None, *, ignore: Iterable[str] = (), source: str = "evaluator_config"
    ) -> EvaluationConfig:
        """Parse an ``evaluator_config`` dict; unknown keys (other than ``ignore``) are errors.

        ``source`` names where the dict came from in that error (e.g. ``--evaluation-config``).
        """
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise StewardInputError(CONFIG_NOT_MAPPING.format(got=type(d).__name__))
        valid = [f.name for f in dataclasses.fields(cls)]
        ignored = set(ignore)
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            if key in ignored and key not in valid:
                continue
            if key not in valid:
                raise unknown_key_error(key, valid, where=source)
            kwargs[key] = value
        return cls(**kwargs)

    @property
    def slices(self) -> SliceSpec:
        """The slice keys as one :class:`SliceSpec` (what the sliced-metric engine takes)."""
        return SliceSpec.of(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` turns back into an equal config."""
        out = dataclasses.asdict(self)
        out["slice_queries"] = dict(self.slice_queries)
        for key in ("metrics", "slice_columns"):
            out[key] = None if out[key] is None else list(out[key])
        out["crosses"] = [list(pair) for pair in self.crosses]
        return out


# --- parsing ------------------------------------------------------------------------------------
def _wrong(key: str, expected: str, value: Any) -> StewardInputError:
    return StewardInputError(WRONG_TYPE.format(key=key, expected=expected, got=value))


def _str_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _wrong(key, "a list of strings", value)
    if not all(isinstance(v, str) for v in value):
        raise _wrong(key, "a list of strings", value)
    return tuple(value)


def _slice_error(key: str, value: Any, expected: str) -> StewardInputError:
    return _wrong(key, expected, value)


def _coerce(key: str, value: Any) -> Any:
    """Check one key's type and convert lists to tuples (the dataclass is frozen and hashable-ish)."""
    if key in SLICE_FIELDS:  # the slice keys: one parser, shared with the gate's config
        return parse_slice_field(key, value, error=_slice_error)
    if key == "metrics":
        return None if value is None else _str_tuple(key, value)
    if key in _SCALARS:
        kind, low, high = _SCALARS[key]
        return check_scalar(
            value, f"evaluator_config[{key!r}]", kind, minimum=low, maximum=high,
            include_minimum=high is None, include_maximum=False, allow_none=key == "random_state",
        )
    if key == "method":
        if not isinstance(value, str):
            raise _wrong(key, "a string", value)
        return value
    return value  # pos_label: any label value


def _validate(config: EvaluationConfig) -> None:
    """Value checks shared by the constructor and ``from_dict``."""
    if config.metrics is not None:
        if len(config.metrics) == 0:
            raise StewardInputError(EMPTY_METRICS)
        for name in config.metrics:
            if name not in KNOWN_METRICS:
                raise StewardInputError(UNKNOWN_METRIC.format(name=name, valid=", ".join(KNOWN_METRICS)))
    if config.method not in METHODS:
        raise StewardInputError(BAD_CHOICE.format(key="method", choices=list(METHODS), got=config.method))
