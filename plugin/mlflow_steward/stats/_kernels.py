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

from ._resample import Counts, Workspace, column_sums

_BLOCK_ROWS = 65_536  # float32 partial sums per block of rows, accumulated in float64
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
        # centred float32 features, (k, n): each feature contiguous
        self._zc32 = np.ascontiguousarray((self.z - self._zbar).T, dtype=np.float32)
        self._zrep: dict[int, np.ndarray] = {}

    def permuted(self, order: np.ndarray) -> MeanKernel:
        cells = None if self.cells is None else self.cells[order]
        return MeanKernel(
            self.name, self.z[order], self.g, cells=cells, cell_values=self.cell_values
        )

    def estimate(self) -> float:
        return float(self.g(self._zbar[None, :])[0])

    def jackknife(self) -> np.ndarray:
        loo = (self.z.sum(axis=0)[None, :] - self.z) / (self.n - 1)
        return self.g(loo)

    def from_means(self, means: np.ndarray) -> np.ndarray:
        return self.g(means)

    def _repeated(self, n_b: int) -> np.ndarray:
        """Centred float32 features, each value repeated ``n_b`` times: (k, n * n_b)."""
        rep = self._zrep.get(n_b)
        if rep is None:
            rep = self._zrep[n_b] = np.repeat(self._zc32, n_b, axis=1)
        return rep

    def _column_dots(self, c: int, lo: int, block: np.ndarray, ws: Workspace) -> np.ndarray:
        """``zc[c, lo:lo+len(block)] @ block`` in float32 without BLAS (OpenBLAS threads spin
        on a busy machine and fight our own). With few resamples per chunk (huge data) the
        product runs on the flattened block against pre-repeated features, then rows fold."""
        m, n_b = block.shape
        if n_b >= 16 or n_b == 1:  # measured crossover
            return np.einsum("i,ij->j", self._zc32[c, lo : lo + m], block)
        prod = ws.get("dots", (m * n_b,), np.float32)
        np.multiply(block.reshape(-1), self._repeated(n_b)[c, lo * n_b : (lo + m) * n_b], out=prod)
        return column_sums(prod.reshape(m, n_b), np.float32)

    def from_counts(self, counts: Counts, ws: Workspace) -> np.ndarray:
        """Statistic for each resample of a chunk of counts (n rows x resamples).

        One vector-matrix product per feature column, on features centred on their mean, in
        float32 blocks of rows accumulated in float64 (rounding stays far below the bootstrap
        spread); the chunk's few extra draws are added by a gather.
        """
        w = counts.base
        n_b = w.shape[1]
        sums = np.zeros((n_b, self.k))
        for lo in range(0, self.n, _BLOCK_ROWS):
            block = w[lo : lo + _BLOCK_ROWS]
            for c in range(self.k):
                sums[:, c] += self._column_dots(c, lo, block, ws)
        if counts.extra_rows.size:
            for c in range(self.k):
                sums[:, c] += counts.extra_sums(self._zc32[c])
        return self.g(sums / self.n + self._zbar)


class AucKernel:
    """Binary ROC AUC of ``scores`` against the boolean ``positive``; ties count one half.

    With the negatives in score order and ``C`` the running count of resampled negatives, a
    positive with score ``s`` beats ``C[lo(s)]`` negatives and ties ``C[hi(s)] - C[lo(s)]``
    (``lo``/``hi``: searchsorted left/right), so a resample's U statistic is
    ``sum_i c_i (C[lo_i] + C[hi_i]) / 2``: O(n) per resample, no sorting.
    """

    chunk_elements = 250_000  # its temporaries are ~5x the counts: keep a chunk in cache

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

    def from_counts(self, counts: Counts, ws: Workspace) -> np.ndarray:
        """AUC for each resample of a chunk of counts (n rows x resamples).

        Running counts are integers (int64 only past 2**31 / 64 rows): numpy's cumulative sum
        is a sequential loop, faster on integers than on floats; with ties the two running
        counts are added (twice the half-counted U) and halved at the end.
        """
        w = counts.dense()
        n1, n0 = self._n1, self._n0
        n_b = w.shape[1]
        itype = np.int32 if self.n * 64 < 2**31 else np.int64
        cum = ws.get("auc_cum", (n0 + 1, n_b), itype)  # cum[j]: resampled negatives before j
        cum[0] = 0
        neg = ws.get("auc_neg", (n0, n_b), np.float32)
        np.take(w, self._neg_idx, axis=0, out=neg)
        np.cumsum(neg, axis=0, dtype=itype, out=cum[1:])
        beaten = ws.get("auc_beaten", (n1, n_b), itype)
        np.take(cum, self._lo, axis=0, out=beaten)
        if self._ties:
            tied = ws.get("auc_tied", (n1, n_b), itype)
            np.take(cum, self._hi, axis=0, out=tied)
            beaten += tied
        pos = ws.get("auc_pos", (n1, n_b), np.float32)
        np.take(w, self._pos_idx, axis=0, out=pos)
        n1_b = column_sums(pos)
        product = ws.get("auc_product", (n1, n_b), np.float64)
        np.multiply(pos, beaten, out=product)
        num = column_sums(product) * (0.5 if self._ties else 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / (n1_b * (self.n - n1_b))


class MacroAucKernel:
    """One-vs-rest ROC AUC averaged over classes (unweighted)."""

    chunk_elements = AucKernel.chunk_elements

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

    def from_counts(self, counts: Counts, ws: Workspace) -> np.ndarray:
        return np.mean([p.from_counts(counts, ws) for p in self.parts], axis=0)


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
