"""Accuracy before the labels arrive: estimated from the classifier's own probabilities.

In the spirit of NannyML's CBPE: if the model is calibrated, a row predicted with top-class
probability ``c`` is right with probability ``c``, so the window's accuracy is about the mean of
``c``. That holds only for a calibrated model, so the estimate is reported only when the version's
test set says so (:func:`check_calibration`):

* the gap ``accuracy - mean confidence`` on the test set has a t-interval within
  ``+- calibration_tolerance``, and
* Spiegelhalter's z-test of the top-class confidences does not reject calibration at
  ``calibration_level`` (it sees miscalibration that cancels out in the mean).

The estimate is ``mean(c) + gap`` (the test set's small remaining bias corrected) with an interval
from the realised accuracy's own variance, ``sum c(1 - c) / n^2``, plus the gap's: the interval
is for the accuracy the window's labels will show. Always marked as an estimate
(``live/accuracy_estimate``); it never decides the window's verdict.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

NOT_CALIBRATED = "not reported: the model is not calibrated enough on its test set ({detail})"
NO_TEST_SET = "not reported: the version records no test set to check calibration on"
NO_PROBABILITIES = "not reported: the capture holds no class probabilities"
N_BINS = 10


@dataclass(frozen=True)
class Calibration:
    """How well the top-class confidence matches the accuracy on the version's test set."""

    n: int
    accuracy: float
    confidence: float  # mean top-class probability
    gap: float  # accuracy - confidence
    gap_low: float
    gap_high: float
    p_value: float  # Spiegelhalter's z-test (H0: calibrated)
    ece: float  # expected calibration error, 10 equal-width bins (for information)
    tolerance: float
    level: float

    @property
    def passed(self) -> bool:
        return max(abs(self.gap_low), abs(self.gap_high)) <= self.tolerance and self.p_value >= self.level

    def describe(self) -> str:
        return (f"test set n={self.n:,}: accuracy {self.accuracy:.4f} vs mean confidence {self.confidence:.4f} "
                f"(gap {self.gap:+.4f} [{self.gap_low:+.4f}, {self.gap_high:+.4f}], tolerance {self.tolerance:g}; "
                f"Spiegelhalter p={self.p_value:.3g}, level {self.level:g}; ECE {self.ece:.4f})")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class Estimate:
    """The estimated accuracy of a window, with its interval (None fields when not reported)."""

    metric: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    reported: bool
    note: str = ""
    calibration: Calibration | None = None

    def describe(self) -> str:
        if not self.reported:
            return f"estimated {self.metric}: {self.note}"
        return f"estimated {self.metric} {self.value:.4f} [{self.low:.4f}, {self.high:.4f}] on {self.n:,} rows (estimate)"

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "calibration"}
        out["calibration"] = None if self.calibration is None else self.calibration.to_dict()
        return out


def top_class(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top-class probability, predicted code) from a (n,) positive-class or (n, k) matrix."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:
        return np.maximum(proba, 1.0 - proba), (proba >= 0.5).astype(int)
    return proba.max(axis=1), proba.argmax(axis=1)


def expected_calibration_error(correct: np.ndarray, confidence: np.ndarray, n_bins: int = N_BINS) -> float:
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def spiegelhalter_p(correct: np.ndarray, confidence: np.ndarray) -> float:
    """Two-sided p-value of Spiegelhalter's z statistic (H0: the confidences are calibrated)."""
    from scipy.stats import norm

    c = np.clip(confidence, 1e-12, 1 - 1e-12)
    numerator = float(np.sum((correct - c) * (1.0 - 2.0 * c)))
    variance = float(np.sum((1.0 - 2.0 * c) ** 2 * c * (1.0 - c)))
    if variance <= 0.0:
        return 1.0 if abs(numerator) < 1e-12 else 0.0
    return float(2.0 * norm.sf(abs(numerator / math.sqrt(variance))))


def check_calibration(
    y_true: np.ndarray, proba: np.ndarray, *, tolerance: float = 0.03, level: float = 0.01, confidence: float = 0.95
) -> Calibration:
    """Calibration of the top-class confidence on labelled rows (``y_true``: class codes, positive = 1)."""
    from mlflow_steward.stats import t_interval

    top, predicted = top_class(proba)
    correct = (predicted == np.asarray(y_true)).astype(float)
    difference = t_interval(correct - top, confidence=confidence)
    return Calibration(
        n=len(correct), accuracy=float(correct.mean()), confidence=float(top.mean()), gap=difference.estimate,
        gap_low=difference.low, gap_high=difference.high, p_value=spiegelhalter_p(correct, top),
        ece=expected_calibration_error(correct, top), tolerance=tolerance, level=level,
    )  # fmt: skip


def estimate_accuracy(proba: np.ndarray, calibration: Calibration | None, *, confidence: float = 0.95) -> Estimate:
    """The window's accuracy from its probabilities, when ``calibration`` passed (see the module docstring)."""
    from scipy.stats import norm

    n = 0 if proba is None else len(proba)
    if calibration is None:
        return Estimate("accuracy", None, None, None, n, False, NO_TEST_SET)
    if not calibration.passed:
        return Estimate("accuracy", None, None, None, n, False, NOT_CALIBRATED.format(detail=calibration.describe()),
                        calibration)  # fmt: skip
    if proba is None or n == 0:
        return Estimate("accuracy", None, None, None, n, False, NO_PROBABILITIES, calibration)
    top, _ = top_class(proba)
    z = float(norm.ppf(0.5 + confidence / 2.0))
    gap_se = (calibration.gap_high - calibration.gap_low) / (2.0 * z)
    value = float(top.mean()) + calibration.gap
    spread = math.sqrt(float(np.sum(top * (1.0 - top))) / n**2 + gap_se**2)
    low, high = max(0.0, value - z * spread), min(1.0, value + z * spread)
    return Estimate("accuracy", min(1.0, max(0.0, value)), low, high, n, True, "estimate", calibration)
