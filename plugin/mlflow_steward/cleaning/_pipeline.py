"""``build_cleaning_pipeline`` and ``build_model_pipeline``: the steps, in their order.

The cleaning pipeline takes the raw feature frame (extra columns are dropped, so the target or an
id column may stay in) and returns a float frame ready for any scikit-learn estimator:

    select      ColumnTransformer passthrough of the feature (and time) columns, by name
    markers     MissingMarkerReplacer            (if config.missing_markers)
    smoothing   Moving average / exponential     (if config.smoothing; ordered by time_column)
    ratios      RatioFeatures                    (if config.ratios)
    outliers    OutlierClipper                   (if config.outliers; numeric + ratio columns)
    impute      TypedImputer                     (numeric + ratio columns; categorical columns)
    encode      ColumnTransformer: scaler on numeric + ratio columns, ClusterSimilarity on its
                columns, OneHotEncoder(handle_unknown="ignore") on the categorical columns

Outliers are clipped before imputation, so the bounds come from observed values only, and ratios
are computed before both, so a zero denominator gives a missing ratio that the imputer fills.
The whole pipeline is ``set_output(transform="pandas")``: every step sees column names, and the
output is a DataFrame of float64 with nameable columns. Do not set it back to "default": the
steps after ``select`` need column names.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from ._config import CleaningConfig
from ._errors import (
    BUILD_DUPLICATE,
    BUILD_NO_FEATURES,
    BUILD_NOT_CONFIG,
    BUILD_NOT_STRINGS,
    BUILD_TIME_IS_FEATURE,
    BUILD_UNKNOWN_COLUMN,
    MODEL_NOT_ESTIMATOR,
    MODEL_NOT_PIPELINE,
    CleaningParameterError,
)
from ._features import ClusterSimilarity, RatioFeatures
from ._impute import TypedImputer
from ._markers import MissingMarkerReplacer
from ._outliers import OutlierClipper
from ._smoothing import ExponentialSmoother, MovingAverageSmoother

_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def build_cleaning_pipeline(
    numeric, categorical, config: CleaningConfig | None = None, *, time_column: str | None = None
) -> Pipeline:
    """An unfitted cleaning ``Pipeline`` for these feature columns (see the module docstring).

    Parameters
    ----------
    numeric, categorical : list of str
        The feature columns by role (either may be empty, not both).
    config : CleaningConfig or None, default=None
        ``None`` means ``CleaningConfig()``.
    time_column : str or None, default=None
        Column ordering the rows for ``config.smoothing`` (not a feature; it must be in the
        frames given to ``fit`` and ``predict`` when smoothing is on, and is ignored otherwise).
        Smoothing works within each batch given to ``transform``/``predict``: a single row at
        predict time comes back unsmoothed.
    """
    config = CleaningConfig() if config is None else config
    if not isinstance(config, CleaningConfig):
        raise CleaningParameterError(BUILD_NOT_CONFIG.format(type=type(config).__name__))
    numeric = _column_list("numeric", numeric)
    categorical = _column_list("categorical", categorical)
    _check_columns(numeric, categorical, config, time_column)

    ratio_names = [ratio[0] for ratio in config.ratios]
    numeric_all = numeric + ratio_names
    selected = numeric + categorical
    if config.smoothing is not None and time_column is not None:
        selected.append(time_column)

    steps = [("select", _passthrough(selected))]
    if config.missing_markers:
        steps.append(("markers", MissingMarkerReplacer(markers=config.missing_markers)))
    if config.smoothing is not None:
        steps.append(("smoothing", _smoother(config.smoothing, time_column)))
    if config.ratios:
        steps.append(("ratios", RatioFeatures(ratios=config.ratios)))
    if config.outliers is not None and numeric_all:
        clipper = OutlierClipper(
            method=config.outliers,
            factor=config.outlier_factor,
            quantiles=config.outlier_quantiles,
            columns=numeric_all,
        )
        steps.append(("outliers", clipper))
    imputer = TypedImputer(
        numeric_strategy=config.numeric_imputation,
        categorical_strategy=config.categorical_imputation,
        numeric_columns=numeric_all,
        categorical_columns=categorical,
    )
    steps.append(("impute", imputer))
    steps.append(("encode", _encoder(numeric_all, categorical, config)))
    return Pipeline(steps).set_output(transform="pandas")


def build_model_pipeline(cleaning: Pipeline, estimator) -> Pipeline:
    """``Pipeline([("cleaning", cleaning), ("model", estimator)])``, both unfitted or fitted."""
    if not isinstance(cleaning, Pipeline):
        raise CleaningParameterError(MODEL_NOT_PIPELINE.format(type=type(cleaning).__name__))
    if not (isinstance(estimator, BaseEstimator) or hasattr(estimator, "fit")):
        raise CleaningParameterError(MODEL_NOT_ESTIMATOR.format(type=type(estimator).__name__))
    return Pipeline([("cleaning", cleaning), ("model", estimator)])


def _column_list(param: str, value) -> list[str]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise CleaningParameterError(BUILD_NOT_STRINGS.format(param=param, value=value))
    columns = list(value)
    if not all(isinstance(column, str) for column in columns):
        raise CleaningParameterError(BUILD_NOT_STRINGS.format(param=param, value=value))
    return columns


def _check_columns(numeric, categorical, config, time_column) -> None:
    if not numeric and not categorical:
        raise CleaningParameterError(BUILD_NO_FEATURES)
    seen = set()
    for column in numeric + categorical:
        if column in seen:
            raise CleaningParameterError(BUILD_DUPLICATE.format(column=column))
        seen.add(column)
    if time_column is not None and time_column in seen:
        raise CleaningParameterError(BUILD_TIME_IS_FEATURE.format(column=time_column))
    uses = [("ratios", column) for ratio in config.ratios for column in ratio[1:]]
    for field in ("cluster_similarity", "smoothing"):
        settings = getattr(config, field)
        if settings is not None:
            uses += [(field, column) for column in settings["columns"]]
    for field, column in uses:
        if column not in numeric:
            raise CleaningParameterError(
                BUILD_UNKNOWN_COLUMN.format(field=field, column=column, numeric=numeric)
            )


def _passthrough(columns: list[str]) -> ColumnTransformer:
    return ColumnTransformer(
        [("features", "passthrough", columns)], remainder="drop", verbose_feature_names_out=False
    )


def _smoother(settings: dict, time_column: str | None):
    columns = list(settings["columns"])
    if settings["method"] == "moving_average":
        return MovingAverageSmoother(
            window=settings["window"], columns=columns, order_by=time_column
        )
    return ExponentialSmoother(alpha=settings["alpha"], columns=columns, order_by=time_column)


def _encoder(numeric_all: list[str], categorical: list[str], config) -> ColumnTransformer:
    transformers = []
    if numeric_all:
        scaler = "passthrough" if config.scaling is None else _SCALERS[config.scaling]()
        transformers.append(("numeric", scaler, numeric_all))
    if config.cluster_similarity is not None:
        settings = config.cluster_similarity
        similarity = ClusterSimilarity(
            n_clusters=settings["n_clusters"],
            gamma=settings["gamma"],
            random_state=settings["random_state"],
        )
        transformers.append(("clusters", similarity, list(settings["columns"])))
    if categorical:
        one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append(("categorical", one_hot, categorical))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
