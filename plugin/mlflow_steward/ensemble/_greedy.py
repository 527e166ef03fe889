"""Ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew & Ksikes, ICML 2004).

Start from an empty ensemble. At each of ``n_iterations`` steps, add (again, if it is already in)
the member whose addition gives the lowest loss of the ensemble's average prediction on the
out-of-fold rows; ties go to the member listed first. Members picked ``c`` times get weight
``c / steps``. As in the paper, the ensemble kept is the prefix of the picks with the lowest loss
(the earliest on ties), so adding more steps never makes the selection worse on these rows.

Numpy only: this module travels inside logged models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._losses import get_loss

MSG_BAD_ITERATIONS = "n_iterations must be an integer >= 1, got {value!r}"
MSG_BAD_PREDICTIONS = (
    "predictions must have shape (n_members, n_rows) or (n_members, n_rows, n_classes) with "
    "n_rows = len(y) = {n}, got shape {shape}"
)


@dataclass(frozen=True)
class GreedySelection:
    """The outcome of :func:`greedy_selection`.

    ``picks``: member index picked at each step (all ``n_iterations`` of them); ``losses``: the
    ensemble's loss after each step; ``n_kept``: how many leading picks form the ensemble;
    ``counts``: times each member is among the kept picks; ``weights``: ``counts / n_kept``.
    """

    picks: tuple[int, ...]
    losses: tuple[float, ...]
    n_kept: int
    counts: np.ndarray
    weights: np.ndarray

    @property
    def loss(self) -> float:
        """The kept ensemble's loss."""
        return self.losses[self.n_kept - 1]


def check_predictions(predictions: object, y: np.ndarray) -> np.ndarray:
    """``predictions`` as a float array of shape ``(m, n)`` or ``(m, n, k)`` matching ``y``."""
    array = np.asarray(predictions, dtype=float)
    if array.ndim not in (2, 3) or array.shape[1] != len(y) or array.shape[0] == 0:
        raise ValueError(MSG_BAD_PREDICTIONS.format(n=len(y), shape=array.shape))
    return array


def greedy_selection(
    predictions: object, y: object, *, loss: str = "squared_error", n_iterations: int = 50
) -> GreedySelection:
    """Caruana's forward selection with replacement on out-of-fold ``predictions`` of ``y``.

    Args:
        predictions: ``(n_members, n_rows)`` regression predictions or ``(n_members, n_rows,
            n_classes)`` class probabilities.
        y: targets (regression) or class indices ``0..k-1`` (classification).
        loss: ``"squared_error"`` or ``"log_loss"`` (see :mod:`._losses`).
        n_iterations: selection steps (the ensemble has at most this many picks).
    """
    if isinstance(n_iterations, bool) or not isinstance(n_iterations, (int, np.integer)) or n_iterations < 1:
        raise ValueError(MSG_BAD_ITERATIONS.format(value=n_iterations))
    target = np.asarray(y)
    preds = check_predictions(predictions, target)
    loss_fn = get_loss(loss)
    n_members = preds.shape[0]
    total = np.zeros(preds.shape[1:], dtype=float)
    picks: list[int] = []
    losses: list[float] = []
    for step in range(1, int(n_iterations) + 1):
        scores = [loss_fn(target, (total + preds[j]) / step) for j in range(n_members)]
        best = int(np.argmin(scores))  # first minimum: ties go to the member listed first
        total += preds[best]
        picks.append(best)
        losses.append(float(scores[best]))
    n_kept = int(np.argmin(losses)) + 1
    counts = np.bincount(np.asarray(picks[:n_kept], dtype=np.int64), minlength=n_members)
    return GreedySelection(
        picks=tuple(picks),
        losses=tuple(losses),
        n_kept=n_kept,
        counts=counts,
        weights=counts / float(n_kept),
    )
