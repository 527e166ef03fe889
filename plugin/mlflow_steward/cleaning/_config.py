"""``CleaningConfig``: what the cleaning pipeline does, parsed and checked once."""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ._errors import (
    CONFIG_INT,
    CONFIG_MISSING_SUBKEY,
    CONFIG_NOT_DICT,
    CONFIG_NOT_MAPPING,
    CONFIG_NUMBER,
    CONFIG_OPTION,
    CONFIG_QUANTILES,
    CONFIG_RATIOS,
    CONFIG_STRINGS,
    CleaningConfigError,
    unknown_key_error,
)
from ._impute import CATEGORICAL_STRATEGIES, NUMERIC_STRATEGIES
from ._outliers import METHODS as OUTLIER_METHODS

SCALINGS = ("standard", "minmax")
SMOOTHING_METHODS = ("moving_average", "exponential")
CLUSTER_DEFAULTS = {"n_clusters": 10, "gamma": 1.0, "random_state": 42}
SMOOTHING_DEFAULTS = {"moving_average": {"window": 3}, "exponential": {"alpha": 0.3}}


@dataclass(frozen=True)
class CleaningConfig:
    """How to clean: every field has a default that suits both housing and adult.

    Parameters
    ----------
    numeric_imputation : {"median", "mean", "most_frequent", "constant"}, default="median"
        ``"constant"`` fills 0.
    categorical_imputation : {"most_frequent", "constant"}, default="most_frequent"
        ``"constant"`` fills ``"missing"``.
    outliers : {"iqr", "quantile"} or None, default="quantile"
        How ``OutlierClipper`` learns its bounds; ``None``: no clipping. The default is the
        gentler rule: on adult, the IQR rule would clip 28% of ``hours-per-week`` (IQR 40-45).
    outlier_factor : float, default=1.5
        IQR multiplier (``outliers="iqr"``).
    outlier_quantiles : (float, float), default=(0.01, 0.99)
        Bounds (``outliers="quantile"``).
    scaling : {"standard", "minmax"} or None, default="standard"
        ``StandardScaler`` or ``MinMaxScaler`` on the numeric (and ratio) columns.
    ratios : tuple of (name, numerator, denominator), default=()
        Ratio columns to add, e.g. ``(("rooms_per_house", "total_rooms", "households"),)``.
    cluster_similarity : dict or None, default=None
        ``{"columns": [...], "n_clusters": 10, "gamma": 1.0, "random_state": 42}``
        (``columns`` required): ``ClusterSimilarity`` features from those numeric columns.
    smoothing : dict or None, default=None
        ``{"method": "moving_average", "columns": [...], "window": 3}`` or
        ``{"method": "exponential", "columns": [...], "alpha": 0.3}`` (``method`` and
        ``columns`` required), ordered by the pipeline's ``time_column``.
    missing_markers : tuple of str, default=("?",)
        Strings that mean "missing" (compared after stripping whitespace).

    The dict fields are stored completed with their defaults, so ``to_dict`` shows every value
    used. ``from_dict(config.to_dict()) == config``.
    """

    numeric_imputation: str = "median"
    categorical_imputation: str = "most_frequent"
    outliers: str | None = "quantile"
    outlier_factor: float = 1.5
    outlier_quantiles: tuple[float, float] = (0.01, 0.99)
    scaling: str | None = "standard"
    ratios: tuple[tuple[str, str, str], ...] = ()
    cluster_similarity: dict[str, Any] | None = None
    smoothing: dict[str, Any] | None = None
    missing_markers: tuple[str, ...] = ("?",)

    def __post_init__(self) -> None:
        _option("numeric_imputation", self.numeric_imputation, NUMERIC_STRATEGIES)
        _option("categorical_imputation", self.categorical_imputation, CATEGORICAL_STRATEGIES)
        _option("outliers", self.outliers, (*OUTLIER_METHODS, None))
        _option("scaling", self.scaling, (*SCALINGS, None))
        normalized = {
            "outlier_factor": _real("outlier_factor", self.outlier_factor, low=0.0),
            "outlier_quantiles": _quantiles(self.outlier_quantiles),
            "ratios": _ratios(self.ratios),
            "cluster_similarity": _cluster(self.cluster_similarity),
            "smoothing": _smoothing(self.smoothing),
            "missing_markers": _strings("missing_markers", self.missing_markers),
        }
        for name, value in normalized.items():
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples as lists) that ``from_dict`` turns back into this config."""
        return {
            "numeric_imputation": self.numeric_imputation,
            "categorical_imputation": self.categorical_imputation,
            "outliers": self.outliers,
            "outlier_factor": self.outlier_factor,
            "outlier_quantiles": list(self.outlier_quantiles),
            "scaling": self.scaling,
            "ratios": [list(ratio) for ratio in self.ratios],
            "cluster_similarity": _json_dict(self.cluster_similarity),
            "smoothing": _json_dict(self.smoothing),
            "missing_markers": list(self.missing_markers),
        }

    def __hash__(self) -> int:  # the dict fields would make the generated hash fail
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "CleaningConfig") -> CleaningConfig:
        """Build a config from a (JSON) dict; unknown keys and bad values raise, naming the key.

        ``source`` names where the dict came from in the unknown-key error (e.g. ``--cleaning-config``).
        """
        if not isinstance(data, Mapping):
            raise CleaningConfigError(CONFIG_NOT_MAPPING.format(type=type(data).__name__))
        known = [field.name for field in fields(cls)]
        for key in data:
            if key not in known:
                raise unknown_key_error(str(key), known, where=source)
        return cls(**data)


def _json_dict(value: dict | None) -> dict | None:
    if value is None:
        return None
    return {key: list(item) if isinstance(item, tuple) else item for key, item in value.items()}


def _option(key: str, value, options) -> None:
    if not isinstance(value, (str, type(None))) or value not in options:
        raise CleaningConfigError(CONFIG_OPTION.format(key=key, options=list(options), value=value))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def _real(key: str, value, *, low: float, low_open: bool = False, high=None) -> float:
    ok = _is_real(value) and (value > low if low_open else value >= low)
    if not ok or (high is not None and value > high):
        bounds = f"{'>' if low_open else '>='} {low}" + ("" if high is None else f" and <= {high}")
        raise CleaningConfigError(CONFIG_NUMBER.format(key=key, bounds=bounds, value=value))
    return float(value)


def _int(key: str, value, *, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise CleaningConfigError(CONFIG_INT.format(key=key, bounds=f">= {low}", value=value))
    return int(value)


def _quantiles(value) -> tuple[float, float]:
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
    ok = ok and all(_is_real(q) for q in value) and 0.0 <= value[0] < value[1] <= 1.0
    if not ok:
        raise CleaningConfigError(CONFIG_QUANTILES.format(value=value))
    return float(value[0]), float(value[1])


def _strings(key: str, value) -> tuple[str, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str)
    if not ok or not all(isinstance(item, str) for item in value):
        raise CleaningConfigError(CONFIG_STRINGS.format(key=key, value=value))
    return tuple(value)


def _ratios(value) -> tuple[tuple[str, str, str], ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str)
    ratios = []
    for ratio in value if ok else ():
        if isinstance(ratio, str) or not isinstance(ratio, Sequence) or len(ratio) != 3:
            ok = False
            break
        if not all(isinstance(part, str) for part in ratio):
            ok = False
            break
        ratios.append(tuple(ratio))
    if not ok:
        raise CleaningConfigError(CONFIG_RATIOS.format(value=value))
    return tuple(ratios)


def _sub_dict(key: str, value, required: Sequence[str], allowed: Sequence[str]) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CleaningConfigError(CONFIG_NOT_DICT.format(key=key, value=value))
    for subkey in value:
        if subkey not in allowed:
            raise unknown_key_error(str(subkey), list(allowed), where="CleaningConfig", prefix=f"{key}.")
    for subkey in required:
        if subkey not in value:
            raise CleaningConfigError(CONFIG_MISSING_SUBKEY.format(key=key, subkey=subkey))
    return dict(value)


def _cluster(value) -> dict | None:
    allowed = ["columns", *CLUSTER_DEFAULTS]
    given = _sub_dict("cluster_similarity", value, ["columns"], allowed)
    if given is None:
        return None
    merged = {**CLUSTER_DEFAULTS, **given}
    random_state = merged["random_state"]
    if random_state is not None:
        random_state = _int("cluster_similarity.random_state", random_state, low=0)
    return {
        "columns": _strings("cluster_similarity.columns", merged["columns"]),
        "n_clusters": _int("cluster_similarity.n_clusters", merged["n_clusters"], low=1),
        "gamma": _real("cluster_similarity.gamma", merged["gamma"], low=0.0, low_open=True),
        "random_state": random_state,
    }


def _smoothing(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CleaningConfigError(CONFIG_NOT_DICT.format(key="smoothing", value=value))
    if "method" not in value:
        raise CleaningConfigError(CONFIG_MISSING_SUBKEY.format(key="smoothing", subkey="method"))
    method = value["method"]
    _option("smoothing.method", method, SMOOTHING_METHODS)
    extra = list(SMOOTHING_DEFAULTS[method])
    given = _sub_dict("smoothing", value, ["method", "columns"], ["method", "columns", *extra])
    merged = {**SMOOTHING_DEFAULTS[method], **given}
    smoothing = {"method": method, "columns": _strings("smoothing.columns", merged["columns"])}
    if method == "moving_average":
        smoothing["window"] = _int("smoothing.window", merged["window"], low=1)
    else:
        smoothing["alpha"] = _real(
            "smoothing.alpha", merged["alpha"], low=0.0, low_open=True, high=1.0
        )
    return smoothing
