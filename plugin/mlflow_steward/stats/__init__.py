"""Confidence intervals, paired tests and multiple-testing corrections: pure numpy/scipy.

``stats`` imports nothing else of mlflow-steward, so it can be tested against scipy alone.

* :func:`t_interval`, :func:`rmse_t_interval`: Student-t intervals.
* :func:`bootstrap_interval`: percentile or BCa bootstrap of any metric (a name from
  :data:`METRICS` or a callable), optionally stratified.
* :func:`paired_bootstrap`: metric(a) - metric(b) on the same resamples, with a p-value.
* :func:`holm`, :func:`benjamini_hochberg`: adjusted p-values.
"""

from ._bootstrap import bootstrap_interval
from ._errors import StatsInputError
from ._interval import Interval, PairedResult
from ._metrics import METRICS, MetricDef
from ._multitest import benjamini_hochberg, holm
from ._paired import paired_bootstrap
from ._tinterval import rmse_t_interval, t_interval

__all__ = [
    "METRICS",
    "Interval",
    "MetricDef",
    "PairedResult",
    "StatsInputError",
    "benjamini_hochberg",
    "bootstrap_interval",
    "holm",
    "paired_bootstrap",
    "rmse_t_interval",
    "t_interval",
]
