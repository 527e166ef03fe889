"""What a skops file of a cleaning pipeline needs trusted, and a check for any other object.

skops refuses to load a type it does not trust by default. It trusts scikit-learn's public
estimators, numpy arrays and dtypes, and Python's basic containers; a fitted cleaning pipeline
also holds our transformers and a few types outside that set (listed below, each with where it
comes from). ``SKOPS_TRUSTED_TYPES`` is what the model logger passes as ``trusted=`` when
saving, and what a loader passes to ``skops.io.load``.
"""

from __future__ import annotations

from ._base import PUBLIC_MODULE

_OUR_CLASSES = (
    "ClusterSimilarity",
    "ExponentialSmoother",
    "MissingMarkerReplacer",
    "MovingAverageSmoother",
    "OutlierClipper",
    "RatioFeatures",
    "TypedImputer",
)

#: Fully qualified names skops must trust to load a fitted cleaning pipeline.
SKOPS_TRUSTED_TYPES: list[str] = [f"{PUBLIC_MODULE}.{name}" for name in _OUR_CLASSES]


def untrusted_types(obj) -> list[str]:
    """Types in ``skops.io.dumps(obj)`` that skops would refuse, minus ``SKOPS_TRUSTED_TYPES``.

    An empty list means ``skops.io.loads(data, trusted=SKOPS_TRUSTED_TYPES)`` loads ``obj``.
    skops is imported here, not at import time (it is only needed to save and load models).
    """
    import skops.io

    found = skops.io.get_untrusted_types(data=skops.io.dumps(obj))
    return sorted(set(found) - set(SKOPS_TRUSTED_TYPES))
