"""Derived features: ``RatioFeatures`` (named column ratios) and ``ClusterSimilarity``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils.validation import check_is_fitted

from ._base import (
    PUBLIC_MODULE,
    FrameTransformer,
    as_float,
    check_int,
    check_real,
    require_columns,
    require_numeric,
)
from ._compat import _check_feature_names_in, validate_data
from ._kernels import AppendRatios, RbfSimilarity, positions_of
from ._errors import PARAM_RATIO, PARAM_RATIO_NAME, CleaningParameterError


class RatioFeatures(FrameTransformer):
    """Append named ratio columns ``numerator / denominator`` to the input.

    A ratio is missing (NaN) where the division is undefined or infinite: a zero denominator
    (``x / 0`` and ``0 / 0``), or a missing numerator or denominator. The imputer that follows
    in the cleaning pipeline fills those.

    Parameters
    ----------
    ratios : sequence of (name, numerator, denominator), default=()
        For example ``(("rooms_per_house", "total_rooms", "households"),)``. Names must be new
        and unique; numerator and denominator must be numeric input columns.

    Attributes
    ----------
    ratios_ : list of (str, str, str)
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, ratios=()):
        self.ratios = ratios

    def fit(self, X, y=None):
        """Check every ratio against the input's columns."""
        owner = type(self).__name__
        ratios = _check_ratios(owner, self.ratios)
        frame, _ = self._frame(X, reset=True)
        seen = set(frame.columns)
        for name, numerator, denominator in ratios:
            if name in seen:
                raise CleaningParameterError(PARAM_RATIO_NAME.format(owner=owner, name=name))
            seen.add(name)
            require_columns(owner, "ratios", [numerator, denominator], frame)
            require_numeric(owner, frame, [numerator, denominator])
        self.ratios_ = [tuple(str(part) for part in ratio) for ratio in ratios]
        return self

    def transform(self, X):
        """Return ``X`` with one float64 column per ratio appended."""
        check_is_fitted(self, "ratios_")
        frame, was_frame = self._frame(X, reset=False)
        new = {}
        for name, numerator, denominator in self.ratios_:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = as_float(frame[numerator]) / as_float(frame[denominator])
            values[~np.isfinite(values)] = np.nan
            new[name] = values
        if new:
            frame = pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)
        return self._output(frame, was_frame)

    def _array_kernel(self) -> AppendRatios:
        """(numerator, denominator) positions of every ratio, as an array kernel."""
        check_is_fitted(self, "ratios_")
        names = [str(c) for c in self._labels()]
        owner = type(self).__name__
        pairs = tuple(positions_of(names, [num, den], owner) for _, num, den in self.ratios_)
        return AppendRatios(pairs)

    def get_feature_names_out(self, input_features=None):
        """The input names followed by the ratio names."""
        check_is_fitted(self, "ratios_")
        names = list(_check_feature_names_in(self, input_features))
        return np.asarray(names + [ratio[0] for ratio in self.ratios_], dtype=object)


def _check_ratios(owner: str, ratios) -> list[tuple]:
    if isinstance(ratios, str) or not isinstance(ratios, Sequence):
        raise CleaningParameterError(PARAM_RATIO.format(owner=owner, value=ratios))
    checked = []
    for ratio in ratios:
        ok = isinstance(ratio, Sequence) and not isinstance(ratio, str) and len(ratio) == 3
        if not ok or not all(isinstance(part, str) for part in ratio):
            raise CleaningParameterError(PARAM_RATIO.format(owner=owner, value=ratio))
        checked.append(tuple(ratio))
    return checked


class ClusterSimilarity(TransformerMixin, BaseEstimator):
    """Similarity of each row to ``n_clusters`` k-means centres (Hands-On ML, chapter 2).

    ``fit`` runs ``KMeans(n_clusters, n_init=10, random_state)`` on the input (typically
    latitude and longitude); ``transform`` returns the RBF similarity
    ``exp(-gamma * ||x - c_i||^2)`` of each row to each centre ``c_i``, in columns named
    ``cluster_<i>_similarity``. Every input column is used: select them beforehand (the cleaning
    pipeline does, from ``CleaningConfig.cluster_similarity["columns"]``). No missing values.

    Parameters
    ----------
    n_clusters : int, default=10
    gamma : float, default=1.0
        RBF width (> 0), in the input's units squared.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    kmeans_ : KMeans
    cluster_centers_ : ndarray of shape (n_clusters, n_features_in_)
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, n_clusters=10, gamma=1.0, random_state=None):
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, X, y=None, sample_weight=None):
        """Find the cluster centres (``sample_weight`` is passed to ``KMeans``)."""
        owner = type(self).__name__
        n_clusters = check_int(owner, "n_clusters", self.n_clusters, low=1)
        check_real(owner, "gamma", self.gamma, low=0.0, low_open=True)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=True)
        self.kmeans_ = KMeans(n_clusters=n_clusters, n_init=10, random_state=self.random_state)
        self.kmeans_.fit(X, sample_weight=sample_weight)
        self.cluster_centers_ = self.kmeans_.cluster_centers_
        return self

    def transform(self, X):
        """RBF similarity of each row to each centre: shape ``(n_samples, n_clusters)``."""
        check_is_fitted(self, "cluster_centers_")
        index = X.index if isinstance(X, pd.DataFrame) else None
        values = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        similarity = rbf_kernel(values, self.cluster_centers_, gamma=float(self.gamma))
        if index is None:
            return similarity
        return pd.DataFrame(similarity, index=index, columns=self.get_feature_names_out())

    def _array_kernel(self) -> RbfSimilarity:
        """The centres (in float64, as ``rbf_kernel`` casts them) and their squared norms."""
        check_is_fitted(self, "cluster_centers_")
        centers = np.array(self.cluster_centers_, dtype=np.float64)
        norms = np.einsum("ij,ij->i", centers, centers)[np.newaxis, :]  # as row_norms(squared=True)
        return RbfSimilarity(centers=centers, centers_norm=norms, gamma=float(self.gamma))

    def get_feature_names_out(self, input_features=None):
        """``cluster_0_similarity``, ``cluster_1_similarity``, ..."""
        check_is_fitted(self, "cluster_centers_")
        _check_feature_names_in(self, input_features)
        n_clusters = self.cluster_centers_.shape[0]
        return np.asarray([f"cluster_{i}_similarity" for i in range(n_clusters)], dtype=object)
