"""Bootstrap resampling: multinomial counts per row, in chunks of resamples, on threads.

A bootstrap resample of n rows is a vector of multinomial counts ``c ~ Multinomial(n, 1/n)``.
Drawing n uniform indices per resample costs one bounded random integer per row plus a
random-access gather; here the counts are drawn directly, *exactly*, at a fraction of that cost:

* **Poisson completion.** Counts ``c_i ~ Poisson(lam)`` i.i.d. are, given their total ``T``,
  exactly ``Multinomial(T, 1/n)``. With ``lam = 1 - 3/sqrt(n)`` we have ``T <= n`` except with
  probability ~0.13%; adding ``n - T`` uniform draws then gives exactly ``Multinomial(n, 1/n)``
  whatever ``T`` was (a sum of independent multinomials with the same cell probabilities).
  The rare resample with ``T > n`` is redrawn the plain way, which keeps it exact.
  A Poisson count needs one random *byte* per row: 256 table slots hold ``floor(256 p_k)`` slots
  per count ``k``; the few leftover slots (~1%) send the row to an exact draw from the residual
  probabilities ``p_k - slots_k/256``, so every count is exactly Poisson (to float64 rounding).
  Only ~3 sqrt(n) uniform indices per resample remain (5% of rows at n=4,000, 0.3% at 10^6).
* **Cells.** When every row is one of K cells (accuracy, F1), the cell counts of a resample are
  ``Multinomial(n, cell frequencies)``: K binomial draws per resample instead of n.
* Strata resample within each stratum (each stratum keeps its size in every resample).

Resamples are split in chunks of about :data:`CHUNK_ELEMENTS` rows x resamples (memory stays
bounded whatever n is); chunk ``i`` draws from child ``i`` of the seed, so results depend on the
seed only, not on the number of threads. numpy releases the GIL in these loops, so threads scale.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import stats as _st

CHUNK_ELEMENTS = 4_000_000
"""Rows x resamples per chunk: ~7 bytes each of working memory per thread (~28 MB)."""
POISSON_MIN_ROWS = 1_024
"""Strata (or data) with fewer rows are resampled with plain uniform indices."""
_SLACK = 3.0  # lam = 1 - _SLACK / sqrt(n): P(T > n) ~ P(Z > 3) ~ 0.13% of resamples
_MAX_COUNT = 60  # residual Poisson probabilities beyond this are < 1e-80


def chunk_plan(n_resamples: int, n_rows: int) -> list[tuple[int, int]]:
    size = max(1, min(n_resamples, CHUNK_ELEMENTS // max(n_rows, 1)))
    return [(lo, min(lo + size, n_resamples)) for lo in range(0, n_resamples, size)]


def _generator(seed: np.random.SeedSequence) -> np.random.Generator:
    """SFC64: a small chaotic counter generator (passes BigCrush), ~25% faster than PCG64 for
    the raw bytes the resampler consumes."""
    return np.random.Generator(np.random.SFC64(seed))


class Workspace:
    """Buffers one worker thread reuses from chunk to chunk.

    Fresh multi-megabyte arrays are returned to the OS when freed and page-fault back in on the
    next chunk, which costs more than the arithmetic; reusing them keeps every pass in memory
    that is already mapped (and mostly in cache).
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        size = math.prod(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = self._buffers[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


def run_chunks(
    task: Callable[[np.random.Generator, int, int, Workspace], None],
    plan: list[tuple[int, int]],
    seed: np.random.SeedSequence,
    n_jobs: int,
) -> None:
    """Call ``task(rng, lo, hi, workspace)`` for every chunk; ``rng`` is seeded from child ``i``
    of ``seed`` for chunk ``i``, so results do not depend on the number of threads. Worker ``w``
    runs chunks ``w, w + n_jobs, ...`` with one workspace."""
    jobs = [(_generator(s), lo, hi) for s, (lo, hi) in zip(seed.spawn(len(plan)), plan)]
    workers = min(n_jobs, len(jobs))

    def work(mine: list[tuple[np.random.Generator, int, int]]) -> None:
        workspace = Workspace()
        for rng, lo, hi in mine:
            task(rng, lo, hi, workspace)

    if workers <= 1:
        work(jobs)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, jobs[w::workers]) for w in range(workers)]:
            future.result()


@functools.lru_cache(maxsize=64)
def _poisson_table(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Byte thresholds for Poisson(lam(m)) counts, and the CDF of the residual distribution."""
    lam = 1.0 - _SLACK / math.sqrt(m)
    pmf = _st.poisson.pmf(np.arange(_MAX_COUNT + 1), lam)
    slots = np.floor(pmf * 256).astype(np.int64)
    n_table = int(np.flatnonzero(slots == 0)[0])  # counts 0..n_table-1 have slots, none after
    assert not slots[n_table:].any()
    thresholds = np.cumsum(slots[:n_table]).astype(np.uint8)  # byte >= thr[j] -> count > j
    residual = pmf - slots / 256.0
    cdf = np.cumsum(residual)
    return thresholds, cdf / cdf[-1]


def _plain_counts(rng: np.random.Generator, n_b: int, m: int) -> np.ndarray:
    """Multinomial(m, 1/m) counts from m uniform indices per resample: (n_b, m) int64."""
    idx = rng.integers(0, m, size=(n_b, m))
    idx += (np.arange(n_b) * m)[:, None]
    return np.bincount(idx.ravel(), minlength=n_b * m).reshape(n_b, m)


_RAW_BLOCK = 4_096  # 64-bit draws per random_raw call (32 KB: stays in malloc's warm heap)


def _leftover_positions(above: np.ndarray) -> np.ndarray:
    """Positions of the True bytes of a sparse bool array whose size is a multiple of 8,
    scanning it as 64-bit words (8x fewer elements than ``np.flatnonzero``)."""
    words = np.flatnonzero(above.view(np.uint64))
    if not words.size:
        return words
    word, bit = np.nonzero(above.reshape(-1, 8)[words])
    return words[word] * 8 + bit


def _poisson_counts_into(
    rng: np.random.Generator, out: np.ndarray, ws: Workspace, tag: str
) -> None:
    """Exact Multinomial(m, 1/m) counts for each row of ``out`` (float32, (n_b, m))."""
    n_b, m = out.shape
    thresholds, residual_cdf = _poisson_table(m)
    size = n_b * m
    padded = -(-size // 8) * 8
    raw = ws.get(tag + "raw", (padded // 8,), np.uint64)
    bitgen = rng.bit_generator
    for lo in range(0, raw.shape[0], _RAW_BLOCK):
        hi = min(lo + _RAW_BLOCK, raw.shape[0])
        raw[lo:hi] = bitgen.random_raw(hi - lo)
    byte = raw.view(np.uint8)[:size]
    counts = ws.get(tag + "counts", (size,), np.uint8)
    above = ws.get(tag + "above", (padded,), np.bool_)
    above[size:] = False
    np.greater_equal(byte, thresholds[0], out=counts.view(np.bool_))
    for thr in thresholds[1:]:
        np.greater_equal(byte, thr, out=above[:size])
        counts += above[:size].view(np.uint8)
    flat = out.reshape(-1)
    flat[...] = counts
    leftover = _leftover_positions(above)  # byte in the leftover slots: exact residual draw
    if leftover.size:
        flat[leftover] = np.searchsorted(residual_cdf, rng.random(leftover.size), side="right")
    # row totals by BLAS gemv: float32 sums of integer counts are exact below 2**24
    ones = ws.get("ones", (m,), np.float32)
    ones[...] = 1.0
    totals = out @ ones if m < 2**24 else out.sum(axis=1, dtype=np.float64)
    deficit = m - totals.astype(np.int64)
    over = np.flatnonzero(deficit < 0)
    if over.size:  # T > m (probability ~0.13%): redraw that resample the plain way
        out[over] = _plain_counts(rng, over.size, m)
        deficit[over] = 0
    top_up = np.repeat(np.arange(0, size, m), deficit)  # first row of each draw's resample
    top_up += rng.integers(0, m, size=top_up.size)
    np.add.at(flat, top_up, np.float32(1))  # a same-dtype value takes numpy's fast path


def _segment_counts_into(
    rng: np.random.Generator, out: np.ndarray, ws: Workspace, tag: str = ""
) -> None:
    if out.shape[1] >= POISSON_MIN_ROWS:
        _poisson_counts_into(rng, out, ws, tag)
    else:
        out[...] = _plain_counts(rng, out.shape[0], out.shape[1])


def weights_chunk(
    rng: np.random.Generator, n_b: int, starts: np.ndarray, sizes: np.ndarray, ws: Workspace
) -> np.ndarray:
    """(n_b, n) float32 multinomial counts, resampled within each segment (stratum).

    The array lives in ``ws`` and is overwritten by the next chunk."""
    n = int(sizes.sum())
    w = ws.get("weights", (n_b, n), np.float32)
    if sizes.shape[0] == 1:
        _segment_counts_into(rng, w, ws)
        return w
    for start, m in zip(starts.tolist(), sizes.tolist()):
        block = ws.get("segment", (n_b, m), np.float32)
        _segment_counts_into(rng, block, ws, "s")
        w[:, start : start + m] = block
    return w


def indices_chunk(
    rng: np.random.Generator, n_b: int, starts: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """(n_b, n) row indices, drawn uniformly within each segment (stratum)."""
    if sizes.shape[0] == 1:
        return rng.integers(0, int(sizes[0]), size=(n_b, int(sizes[0])))
    idx = np.empty((n_b, int(sizes.sum())), dtype=np.intp)
    for start, m in zip(starts.tolist(), sizes.tolist()):
        idx[:, start : start + m] = rng.integers(start, start + m, size=(n_b, m))
    return idx


def cell_counts_chunk(
    rng: np.random.Generator, n_b: int, cell_probs: list[tuple[int, np.ndarray]]
) -> np.ndarray:
    """(n_b, K) cell counts: per segment ``Multinomial(m, cell frequencies of the segment)``."""
    total = None
    for m, probs in cell_probs:
        counts = rng.multinomial(m, probs, size=n_b)
        total = counts if total is None else total + counts
    return total
