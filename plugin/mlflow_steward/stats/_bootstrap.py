"""Percentile and BCa bootstrap intervals for any metric, and the shared resampling driver."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._bca import bca_levels, endpoints, percentile_levels
from ._errors import (
    MSG_METRIC_NOT_FINITE,
    MSG_UNDEFINED_JACKKNIFE,
    MSG_UNDEFINED_RESAMPLES,
    StatsInputError,
)
from ._interval import Interval
from ._kernels import CallableKernel, Kernel, MeanKernel
from ._metrics import make_kernel
from ._resample import (
    Workspace,
    cell_counts_chunk,
    chunk_plan,
    indices_chunk,
    run_chunks,
    weights_chunk,
)
from ._validation import (
    MIN_ROWS,
    check_confidence,
    check_method,
    check_n_jobs,
    check_n_resamples,
    seed_sequence,
    strata_order,
)

MAX_CELLS = 4_096
"""Discrete kernels with more joint cells than this are resampled row by row."""


def _joint_cells(kernels: list[MeanKernel]) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """Joint cell of each row over all kernels, the features of each joint cell (every kernel's
    columns side by side), and each kernel's column slice."""
    code = np.zeros(kernels[0].n, dtype=np.int64)
    for k in kernels:
        code = code * k.cell_values.shape[0] + k.cells
    joint, inverse = np.unique(code, return_inverse=True)
    own_cells = []  # each kernel's own cell for every joint cell (the last kernel varies fastest)
    for k in reversed(kernels):
        own_cells.insert(0, joint % k.cell_values.shape[0])
        joint = joint // k.cell_values.shape[0]
    values = np.hstack([k.cell_values[c] for k, c in zip(kernels, own_cells)])
    bounds = np.cumsum([0] + [k.k for k in kernels])
    return inverse.reshape(-1), values, [slice(a, b) for a, b in itertools.pairwise(bounds)]


def bootstrap_distribution(
    kernels: list[Kernel],
    *,
    starts: np.ndarray,
    sizes: np.ndarray,
    n_resamples: int,
    seed: np.random.SeedSequence,
    n_jobs: int,
) -> np.ndarray:
    """Each kernel's statistic on the same ``n_resamples`` resamples: shape (len(kernels), B)."""
    n = kernels[0].n
    out = np.empty((len(kernels), n_resamples))

    if all(isinstance(k, MeanKernel) and k.cells is not None for k in kernels):
        cells, values, cols = _joint_cells(kernels)
        if values.shape[0] <= MAX_CELLS:
            n_cells = values.shape[0]
            cell_probs = []
            for start, m in zip(starts.tolist(), sizes.tolist()):
                freq = np.bincount(cells[start : start + m], minlength=n_cells) / m
                cell_probs.append((m, freq))

            def cell_task(rng: np.random.Generator, lo: int, hi: int, ws: Workspace) -> None:
                means = cell_counts_chunk(rng, hi - lo, cell_probs) @ values / n
                for j, k in enumerate(kernels):
                    out[j, lo:hi] = k.from_means(means[:, cols[j]])

            run_chunks(cell_task, chunk_plan(n_resamples, 16 * n_cells), seed, n_jobs)
            return out

    if any(isinstance(k, CallableKernel) for k in kernels):

        def index_task(rng: np.random.Generator, lo: int, hi: int, ws: Workspace) -> None:
            idx = indices_chunk(rng, hi - lo, starts, sizes)
            for j, k in enumerate(kernels):
                out[j, lo:hi] = k.from_indices(idx)

        # one thread: a Python callable holds the GIL, and need not be thread-safe
        run_chunks(index_task, chunk_plan(n_resamples, n), seed, 1)
        return out

    def weight_task(rng: np.random.Generator, lo: int, hi: int, ws: Workspace) -> None:
        counts = weights_chunk(rng, hi - lo, starts, sizes, ws)
        for j, k in enumerate(kernels):
            out[j, lo:hi] = k.from_counts(counts, ws)

    # a kernel with large temporaries (AUC) asks for smaller chunks
    elements = min(
        (k.chunk_elements for k in kernels if hasattr(k, "chunk_elements")), default=None
    )
    run_chunks(weight_task, chunk_plan(n_resamples, n, elements), seed, n_jobs)
    return out


def prepare(
    metric: object,
    y_true: object,
    predictions: list[tuple[object, str]],
    strata: object,
) -> tuple[list[Kernel], np.ndarray, np.ndarray]:
    """Validated kernels (rows grouped by stratum) and the strata segments."""
    kernels = [
        make_kernel(metric, y_true, pred, min_rows=MIN_ROWS, pred_name=name)
        for pred, name in predictions
    ]
    order, starts, sizes = strata_order(strata, kernels[0].n)
    if order is not None:
        kernels = [k.permuted(order) for k in kernels]
    return kernels, starts, sizes


def point_estimate(kernel: Kernel) -> float:
    value = kernel.estimate()
    if not math.isfinite(value):
        raise StatsInputError(MSG_METRIC_NOT_FINITE.format(metric=kernel.name, value=value))
    return value


def check_resamples(name: str, theta_b: np.ndarray) -> None:
    bad = theta_b.shape[0] - int(np.count_nonzero(np.isfinite(theta_b)))
    if bad:
        raise StatsInputError(
            MSG_UNDEFINED_RESAMPLES.format(metric=name, count=bad, total=theta_b.shape[0])
        )


def jackknife(kernel: Kernel, seed: np.random.SeedSequence) -> np.ndarray:
    values = kernel.jackknife(seed) if isinstance(kernel, CallableKernel) else kernel.jackknife()
    bad = values.shape[0] - int(np.count_nonzero(np.isfinite(values)))
    if bad:
        raise StatsInputError(
            MSG_UNDEFINED_JACKKNIFE.format(metric=kernel.name, count=bad, total=values.shape[0])
        )
    return values


def bootstrap_interval(
    metric: object,
    y_true: object,
    y_pred: object,
    *,
    method: str = "percentile",
    n_resamples: int = 9999,
    confidence: float = 0.95,
    random_state: object = None,
    strata: object = None,
    n_jobs: int | None = None,
) -> Interval:
    """Bootstrap confidence interval of ``metric(y_true, y_pred)`` over the rows.

    Parameters
    ----------
    metric : a name from :data:`METRICS` or a callable ``metric(y_true, y_pred) -> float``.
    y_true, y_pred : one value per row; for ``roc_auc``, ``log_loss`` and ``brier`` ``y_pred``
        is the positive-class probability (binary) or an (n, k) probability matrix.
    method : ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated), defined as in
        ``scipy.stats.bootstrap``.
    n_resamples, confidence : number of resamples; two-sided confidence level in (0, 1).
    random_state : None, an int, a ``numpy.random.SeedSequence`` or ``Generator``. The result
        depends on it only (not on ``n_jobs``).
    strata : optional labels, one per row: rows are resampled within each stratum, so every
        resample keeps each stratum's size (a small stratum never vanishes). BCa's acceleration
        still comes from the ordinary leave-one-out jackknife.
    n_jobs : threads (default: every core).

    Named metrics are resampled as exact multinomial counts and evaluated in closed form (see
    ``_resample`` and ``_kernels``); a callable is called once per resample, and BCa calls it
    once per left-out row (or per left-out group beyond 2,000 rows).
    """
    method = check_method(method)
    n_resamples = check_n_resamples(n_resamples)
    confidence = check_confidence(confidence)
    n_jobs = check_n_jobs(n_jobs)
    seed = seed_sequence(random_state)
    (kernel,), starts, sizes = prepare(metric, y_true, [(y_pred, "y_pred")], strata)
    estimate = point_estimate(kernel)
    resample_seed, jackknife_seed = seed.spawn(2)
    theta_b = bootstrap_distribution(
        [kernel],
        starts=starts,
        sizes=sizes,
        n_resamples=n_resamples,
        seed=resample_seed,
        n_jobs=n_jobs,
    )[0]
    check_resamples(kernel.name, theta_b)
    if method == "bca":
        levels = bca_levels(theta_b, estimate, jackknife(kernel, jackknife_seed), confidence)
    else:
        levels = percentile_levels(confidence)
    low, high = endpoints(theta_b, levels)
    return Interval(estimate, low, high, confidence, method)
