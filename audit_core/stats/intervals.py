"""Confidence intervals: bootstrap for AUC, Clopper-Pearson for rates, Fisher's exact test."""

from __future__ import annotations

import numpy as np

from audit_core.stats.bootstrap_curves import RankedAuc, draw_counts

CONFIDENCE = 0.95


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact binomial interval; conservative, so small counts are never overstated."""
    from scipy.stats import beta

    if trials <= 0:
        return (0.0, 1.0)
    alpha = 1.0 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return (low, high)


def bootstrap_auc(members: np.ndarray, non_members: np.ndarray, rng: np.random.Generator,
                  resamples: int = 1000, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval from resampling members and non-members separately.

    A resample is drawn as before (one `rng.integers` per group, members first) but
    evaluated as counts, a block of resamples at once (stats.bootstrap_curves.RankedAuc:
    with the non-members sorted once, the non-members below each member are cumulative
    sums of how often each was drawn). No sort per resample, and since every count is an
    integer, each AUC is bit for bit what sorting the resample gives.
    """
    statistic = RankedAuc(members, non_members)
    values = np.concatenate([statistic(counts_m, counts_n) for counts_m, counts_n in
                             draw_counts(rng, (len(members), len(non_members)), resamples, statistic.width)])
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def fisher_greater(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """One-sided p-value that group a's rate exceeds group b's."""
    from scipy.stats import fisher_exact

    table = [[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]]
    return float(fisher_exact(table, alternative="greater")[1])


def epsilon_lower_bound(true_positives: int, members: int, false_positives: int,
                        non_members: int) -> float:
    """A lower bound on the differential-privacy epsilon implied by one operating point.

    Jagielski, Ullman and Oprea (NeurIPS 2020): with delta = 0, any epsilon-DP training
    bounds TPR <= e^eps FPR and (1 - FPR) <= e^eps (1 - TPR). Using the Clopper-Pearson
    bounds least favourable to the attack gives a bound that holds with high confidence.
    """
    tpr_low, _ = clopper_pearson(true_positives, members)
    _, fpr_high = clopper_pearson(false_positives, non_members)
    bounds = [0.0]
    if tpr_low > 0 and fpr_high > 0:
        bounds.append(np.log(tpr_low / fpr_high))
    if tpr_low < 1 and fpr_high < 1:
        bounds.append(np.log((1 - fpr_high) / (1 - tpr_low)))
    return float(max(bounds))


def auc_greater_p_value(members: np.ndarray, non_members: np.ndarray) -> float:
    """One-sided Mann-Whitney p-value that members score higher (AUC > 0.5)."""
    from scipy.stats import mannwhitneyu

    if len(members) == 0 or len(non_members) == 0:
        return 1.0
    return float(mannwhitneyu(members, non_members, alternative="greater").pvalue)


def bootstrap_advantage(members: np.ndarray, non_members: np.ndarray, rng: np.random.Generator,
                        resamples: int = 1000, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval of the membership advantage, max over thresholds of TPR - FPR.

    Evaluated as counts over the pooled scores sorted once, a block of resamples at once
    from the same draws (see `bootstrap_auc`): a value absent from a resample only repeats
    the ROC point before it, so the maximum over the pool's thresholds is the resample's
    own, bit for bit.
    """
    n1, n0 = len(members), len(non_members)
    pooled = np.concatenate([members, non_members])
    order = np.argsort(-pooled, kind="mergesort")
    ordered = pooled[order]
    cuts = np.r_[np.nonzero(np.diff(ordered))[0], len(ordered) - 1]  # last index of each threshold
    is_member = order < n1
    blocks = []
    for counts_m, counts_n in draw_counts(rng, (n1, n0), resamples, 6 * len(pooled)):
        counts = np.take(np.concatenate([counts_m, counts_n], axis=1), order, axis=1)
        tps = np.take(np.cumsum(counts * is_member, axis=1), cuts, axis=1)
        fps = np.take(np.cumsum(counts * ~is_member, axis=1), cuts, axis=1)
        blocks.append(np.maximum(np.max(tps / n1 - fps / n0, axis=1), 0.0))  # (0, 0) is a point too
    values = np.concatenate(blocks)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def posterior_membership(prior: float, likelihood_ratio: float) -> float:
    """P(member | flagged) for a record drawn with P(member) = prior (Bayes in odds form).

    An infinite likelihood ratio (no false positive observed) gives 1.
    """
    if not np.isfinite(likelihood_ratio):
        return 1.0
    odds = prior / (1.0 - prior) * likelihood_ratio
    return float(odds / (1.0 + odds))
