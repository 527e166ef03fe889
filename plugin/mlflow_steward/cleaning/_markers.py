"""``MissingMarkerReplacer``: strings that mean "missing" (``"?"``, ``"n/a"``) become NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import PUBLIC_MODULE, FrameTransformer, check_strings
from ._kernels import ReplaceMarkers


class MissingMarkerReplacer(FrameTransformer):
    """Replace marker strings by NaN, so imputers and reports see them as missing.

    A cell is a marker when it is a string whose value, stripped of surrounding whitespace, is
    one of ``markers`` (stripped too): with ``markers=("?",)``, ``"?"``, ``" ?"`` and ``"? "``
    all become missing (the adult census data writes ``" ?"``). Numeric columns are left alone;
    string (``object``, ``StringDtype``) and ``category`` columns keep their dtype.

    Parameters
    ----------
    markers : sequence of str, default=("?",)
        The strings that mean "missing".

    Attributes
    ----------
    markers_ : tuple of str
        The markers, stripped.
    n_replaced_ : dict of str to int
        Markers found per column in the training data (columns with none are left out).
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    __module__ = PUBLIC_MODULE

    def __init__(self, *, markers=("?",)):
        self.markers = markers

    def fit(self, X, y=None):
        """Check ``markers`` and record the input's features; count markers per column."""
        markers = check_strings(type(self).__name__, "markers", self.markers)
        self.markers_ = tuple(marker.strip() for marker in markers)
        frame, _ = self._frame(X, reset=True)
        self.n_replaced_ = {
            str(column): int(mask.sum()) for column, mask in self._masks(frame).items()
        }
        return self

    def transform(self, X):
        """Return ``X`` with every marker cell replaced by NaN."""
        check_is_fitted(self, "markers_")
        frame, was_frame = self._frame(X, reset=False)
        masks = self._masks(frame)
        if masks:
            frame = frame.copy()
            for column, mask in masks.items():
                series = frame[column]
                if isinstance(series.dtype, pd.CategoricalDtype):
                    # a category column cannot hold a value outside its categories: drop the
                    # marker categories, which turns their cells into NaN
                    dropped = [c for c in series.cat.categories if self._is_marker(c)]
                    frame[column] = series.cat.remove_categories(dropped)
                else:
                    frame[column] = series.mask(mask)
        return self._output(frame, was_frame)

    def _array_kernel(self) -> ReplaceMarkers:
        """The fitted markers as an array kernel (text columns only, as ``transform``)."""
        check_is_fitted(self, "markers_")
        return ReplaceMarkers(frozenset(self.markers_))

    def _is_marker(self, value) -> bool:
        return isinstance(value, str) and value.strip() in self.markers_

    def _masks(self, frame: pd.DataFrame) -> dict:
        """Boolean mask of marker cells for every column that may hold strings and has one."""
        masks = {}
        if not self.markers_:
            return masks
        for column in frame.columns:
            series = frame[column]
            dtype = series.dtype
            if pd.api.types.is_string_dtype(dtype) and not dtype == object:
                mask = series.str.strip().isin(self.markers_).fillna(False).to_numpy(bool)
            elif dtype == object or isinstance(dtype, pd.CategoricalDtype):
                mask = np.fromiter(
                    (self._is_marker(value) for value in series), dtype=bool, count=len(series)
                )
            else:
                continue
            if mask.any():
                masks[column] = mask
        return masks
