"""Paired bootstrap: metric(a) - metric(b) for two models scored on the same rows."""

from __future__ import annotations

from ._bca import bca_levels, endpoints, p_value_bca, p_value_percentile, percentile_levels
from ._bootstrap import (
    bootstrap_distribution,
    check_resamples,
    jackknife,
    point_estimate,
    prepare,
)
from ._interval import Interval, PairedResult
from ._validation import (
    check_alternative,
    check_confidence,
    check_method,
    check_n_jobs,
    check_n_resamples,
    seed_sequence,
)


def paired_bootstrap(
    metric: object,
    y_true: object,
    pred_a: object,
    pred_b: object,
    *,
    n_resamples: int = 9999,
    confidence: float = 0.95,
    random_state: object = None,
    strata: object = None,
    method: str = "percentile",
    n_jobs: int | None = None,
    alternative: str = "two-sided",
) -> PairedResult:
    """Interval and p-value for ``metric(y_true, pred_a) - metric(y_true, pred_b)``.

    Both models are evaluated on the *same* resampled rows, so the row-to-row variation they
    share cancels. The p-value of H0 "no difference" inverts the interval of the same
    ``method``: it is the smallest ``alpha`` whose (1 - alpha) interval excludes 0, so
    ``p < 1 - confidence`` when 0 is outside ``difference`` (up to the +1 below and the
    quantile interpolation, i.e. one resample, at the boundary):

    * ``"percentile"``: ``p = 2 min(#{d* <= 0} + 1, #{d* >= 0} + 1) / (B + 1)``, capped at 1
      (the fraction of resampled differences on the far side of 0, doubled);
    * ``"bca"``: the BCa level map solved for the level whose endpoint is 0 (closed form).

    Valid because under H0 the estimate is centred on 0 and the bootstrap distribution around it
    has (asymptotically) the estimate's spread, so ``P*(d* <= 0)`` is uniform; tests check the
    rejection rate under H0 by simulation.

    ``alternative``: ``"two-sided"`` (default), or one-sided ``"greater"`` (H1: metric(a) >
    metric(b)) / ``"less"``, the same inversion of the one-sided interval (see ``_bca``). The
    interval stays two-sided.
    """
    method = check_method(method)
    alternative = check_alternative(alternative)
    n_resamples = check_n_resamples(n_resamples)
    confidence = check_confidence(confidence)
    n_jobs = check_n_jobs(n_jobs)
    seed = seed_sequence(random_state)
    (ka, kb), starts, sizes = prepare(
        metric, y_true, [(pred_a, "pred_a"), (pred_b, "pred_b")], strata
    )
    est_a, est_b = point_estimate(ka), point_estimate(kb)
    diff = est_a - est_b
    resample_seed, jackknife_seed = seed.spawn(2)
    theta = bootstrap_distribution(
        [ka, kb],
        starts=starts,
        sizes=sizes,
        n_resamples=n_resamples,
        seed=resample_seed,
        n_jobs=n_jobs,
    )
    check_resamples(ka.name, theta[0])
    check_resamples(kb.name, theta[1])
    diff_b = theta[0] - theta[1]
    if method == "bca":
        # the same seed gives a callable's grouped jackknife the same groups for both models
        jack = jackknife(ka, jackknife_seed) - jackknife(kb, jackknife_seed)
        levels = bca_levels(diff_b, diff, jack, confidence)
        p_value = p_value_bca(diff_b, diff, jack, alternative)
    else:
        levels = percentile_levels(confidence)
        p_value = p_value_percentile(diff_b, alternative)
    low, high = endpoints(diff_b, levels)
    return PairedResult(
        difference=Interval(diff, low, high, confidence, method),
        p_value=p_value,
        estimate_a=est_a,
        estimate_b=est_b,
        n_resamples=n_resamples,
        alternative=alternative,
    )
