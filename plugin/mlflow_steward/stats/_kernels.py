"""Statistic kernels: one metric on one data set, evaluated on the full data, on bootstrap
weights (multinomial counts per row) and on every leave-one-out subsample.

Three kinds cover every metric:

* :class:`MeanKernel`: the metric is a smooth function ``g`` of the column means of a per-row
  feature matrix ``Z`` (RMSE = sqrt(mean r^2), R2 from means of r^2, y-ybar, (y-ybar)^2, F1 from
  the means of TP/FP/FN indicators, ...). A resample's value is ``g(counts @ Z / n)``, and the
  leave-one-out means are closed form, ``(S - z_i) / (n - 1)``, so BCa's jackknife is O(n).
  When every row falls in one of a few *cells* (accuracy, F1), the resample only needs the cell
  counts, which are exactly multinomial: O(cells) per resample instead of O(n).
* :class:`AucKernel`: ROC AUC (Mann-Whitney U) from counts in score order with a cumulative sum;
  leave-one-out AUCs from placement values (closed form).
* :class:`CallableKernel`: any ``metric(y_true, y_pred) -> float``, one call per resample.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._resample import Workspace

_BLOCK_ROWS = 65_536  # float32 partial sums per block of rows, accumulated in float64
_AUC_BLOCK = 1_000_000  # resamples x rows per AUC sub-block: bounds the temporaries
JACKKNIFE_GROUPS = 2_000
"""A callable metric on more rows than this gets a delete-group jackknife of this many groups."""


class MeanKernel:
    """``g(mean(Z, axis=0))`` for a per-row feature matrix ``Z`` of shape (n, k)."""

    def __init__(
        self,
        name: str,
        z: np.ndarray,
        g: Callable[[np.ndarray], np.ndarray],
        *,
        cells: np.ndarray | None = None,
        cell_values: np.ndarray | None = None,
    ) -> None:
        self.name = name
        self.z = np.asarray(z, dtype=np.float64).reshape(z.shape[0], -1)
        self.g = g
        self.n = self.z.shape[0]
        self.k = self.z.shape[1]
        # optional discrete representation: row i has features cell_values[cells[i]]
        self.cells = cells
        self.cell_values = cell_values
        self._zbar = self.z.mean(axis=0)
        self._zc32: np.ndarray | None = None

    def permuted(self, order: np.ndarray) -> MeanKernel:
        cells = None if self.cells is None else self.cells[order]
        return MeanKernel(self.name, self.z[order], self.g, cells=cells, cell_values=self.cell_values)

    def estimate(self) -> float:
        return float(self.g(self._zbar[None, :])[0])

    def jackknife(self) -> np.ndarray:
        loo = (self.z.sum(axis=0)[None, :] - self.z) / (self.n - 1)
        return self.g(loo)

    def from_means(self, means: np.ndarray) -> np.ndarray:
        return self.g(means)

    def from_weights(self, w: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        """Statistic for each row of ``w`` (float32 counts summing to n per row).

        One matrix-vector product per feature column (BLAS gemv; a gemm with a handful of
        columns is many times slower), on rows centred on their mean, in float32 blocks of
        rows accumulated in float64: the rounding error stays far below the bootstrap spread.
        """
        if self._zc32 is None:  # (k, n): each column contiguous for gemv
            self._zc32 = np.ascontiguousarray((self.z - self._zbar).T, dtype=np.float32)
        sums = np.zeros((w.shape[0], self.k))
        for lo in range(0, self.n, _BLOCK_ROWS):
            block = w[:, lo : lo + _BLOCK_ROWS]
            for c in range(self.k):
                sums[:, c] += block @ self._zc32[c, lo : lo + _BLOCK_ROWS]
        return self.g(sums / self.n + self._zbar)


class AucKernel:
    """Binary ROC AUC of ``scores`` against the boolean ``positive``; ties count one half.

    With the negatives in score order and ``C`` the running count of resampled negatives, a
    positive with score ``s`` beats ``C[lo(s)]`` negatives and ties ``C[hi(s)] - C[lo(s)]``
    (``lo``/``hi``: searchsorted left/right), so a resample's U statistic is
    ``sum_i c_i (C[lo_i] + C[hi_i]) / 2``: O(n) per resample, no sorting.
    """

    def __init__(self, name: str, positive: np.ndarray, scores: np.ndarray) -> None:
        self.name = name
        self.positive = np.asarray(positive, dtype=bool)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.n = self.positive.shape[0]
        pos_idx = np.flatnonzero(self.positive)
        neg_idx = np.flatnonzero(~self.positive)
        neg_order = np.argsort(self.scores[neg_idx], kind="stable")
        self._neg_idx = neg_idx[neg_order]
        self._pos_idx = pos_idx
        neg_sorted = self.scores[self._neg_idx]
        self._lo = np.searchsorted(neg_sorted, self.scores[pos_idx], side="left")
        self._hi = np.searchsorted(neg_sorted, self.scores[pos_idx], side="right")
        self._ties = bool(np.any(self._lo != self._hi))
        self._n1, self._n0 = pos_idx.shape[0], neg_idx.shape[0]

    def permuted(self, order: np.ndarray) -> AucKernel:
        return AucKernel(self.name, self.positive[order], self.scores[order])

    def estimate(self) -> float:
        u = 0.5 * float(np.sum(self._lo + self._hi))
        return u / (self._n1 * self._n0)

    def jackknife(self) -> np.ndarray:
        n1, n0 = self._n1, self._n0
        below = 0.5 * (self._lo + self._hi)  # negatives a positive beats (ties half)
        u = float(below.sum())
        pos_sorted = np.sort(self.scores[self._pos_idx])
        neg_scores = self.scores[self._neg_idx]
        above = n1 - 0.5 * (  # positives that beat a negative (ties half)
            np.searchsorted(pos_sorted, neg_scores, side="left")
            + np.searchsorted(pos_sorted, neg_scores, side="right")
        )
        out = np.empty(self.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[self._pos_idx] = (u - below) / ((n1 - 1) * n0)
            out[self._neg_idx] = (u - above) / (n1 * (n0 - 1))
        return out

    def from_weights(self, w: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        ws = ws if ws is not None else Workspace()
        n_b = w.shape[0]
        n1, n0 = self._n1, self._n0
        exact32 = self.n * self.n < 2**24  # every partial sum an exact float32 half-integer
        dtype = np.float32 if exact32 else np.float64
        out = np.empty(n_b)
        step = max(1, _AUC_BLOCK // self.n)
        for lo in range(0, n_b, step):
            wb = w[lo : lo + step]
            m = wb.shape[0]
            neg = ws.get("auc_neg", (m, n0), np.float32)
            np.take(wb, self._neg_idx, axis=1, out=neg)
            cum = ws.get("auc_cum", (m, n0 + 1), dtype)  # cum[:, j]: resampled negatives before j
            cum[:, 0] = 0
            np.cumsum(neg, axis=1, dtype=dtype, out=cum[:, 1:])
            beaten = ws.get("auc_beaten", (m, n1), dtype)
            np.take(cum, self._lo, axis=1, out=beaten)
            if self._ties:
                tied = ws.get("auc_tied", (m, n1), dtype)
                np.take(cum, self._hi, axis=1, out=tied)
                beaten += tied
                beaten *= 0.5
            wpos = ws.get("auc_wpos", (m, n1), np.float32)
            np.take(wb, self._pos_idx, axis=1, out=wpos)
            num = np.einsum("ij,ij->i", wpos, beaten, dtype=np.float64)
            n1_b = wpos.sum(axis=1, dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[lo : lo + m] = num / (n1_b * (self.n - n1_b))
        return out


class MacroAucKernel:
    """One-vs-rest ROC AUC averaged over classes (unweighted)."""

    def __init__(self, name: str, parts: list[AucKernel]) -> None:
        self.name = name
        self.parts = parts
        self.n = parts[0].n

    def permuted(self, order: np.ndarray) -> MacroAucKernel:
        return MacroAucKernel(self.name, [p.permuted(order) for p in self.parts])

    def estimate(self) -> float:
        return float(np.mean([p.estimate() for p in self.parts]))

    def jackknife(self) -> np.ndarray:
        return np.mean([p.jackknife() for p in self.parts], axis=0)

    def from_weights(self, w: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        return np.mean([p.from_weights(w, ws) for p in self.parts], axis=0)


class CallableKernel:
    """A user metric ``fn(y_true, y_pred) -> float`` called on each resample."""

    def __init__(self, name: str, fn: Callable, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self.name = name
        self.fn = fn
        self.y_true = y_true
        self.y_pred = y_pred
        self.n = y_true.shape[0]

    def permuted(self, order: np.ndarray) -> CallableKernel:
        return CallableKernel(self.name, self.fn, self.y_true[order], self.y_pred[order])

    def _call(self, rows: np.ndarray) -> float:
        value = self.fn(self.y_true[rows], self.y_pred[rows])
        try:
            return float(value)
        except (TypeError, ValueError):
            return np.nan

    def estimate(self) -> float:
        return float(self.fn(self.y_true, self.y_pred))

    def from_indices(self, idx: np.ndarray) -> np.ndarray:
        return np.array([self._call(rows) for rows in idx])

    def jackknife(self, seed: np.random.SeedSequence | None = None) -> np.ndarray:
        """Leave-one-out values; above :data:`JACKKNIFE_GROUPS` rows, leave-one-group-out values
        (random groups), which estimate the same BCa acceleration (third over second moments of
        the influence values; both add over the rows of a group) with O(groups) calls."""
        n = self.n
        if n <= JACKKNIFE_GROUPS:
            keep = np.ones(n, dtype=bool)
            out = np.empty(n)
            for i in range(n):
                keep[i] = False
                out[i] = self._call(np.flatnonzero(keep))
                keep[i] = True
            return out
        rng = np.random.default_rng(seed)
        group = rng.permutation(n) % JACKKNIFE_GROUPS
        return np.array([self._call(np.flatnonzero(group != g)) for g in range(JACKKNIFE_GROUPS)])


Kernel = MeanKernel | AucKernel | MacroAucKernel | CallableKernel
