"""Confidence intervals: bootstrap for AUC, Clopper-Pearson for rates, Fisher's exact test."""

from __future__ import annotations

import numpy as np

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

    A resample is drawn as before (indices into each group) but evaluated as counts: with
    the non-members sorted once, the non-members below each member in a resample are a
    cumulative sum of how often each was drawn. No sort per resample, and since every
    count is an integer, each AUC is bit-for-bit what sorting the resample gives.
    """
    values = np.empty(resamples)
    n1, n0 = len(members), len(non_members)
    order = np.argsort(non_members, kind="stable")
    ranked = non_members[order]
    left = np.searchsorted(ranked, members, side="left")
    right = np.searchsorted(ranked, members, side="right")
    below_all = np.empty(n0 + 1, dtype=np.int64)
    below_all[0] = 0
    for i in range(resamples):
        drawn = np.bincount(rng.integers(0, n1, n1), minlength=n1)
        np.cumsum(np.bincount(rng.integers(0, n0, n0), minlength=n0)[order], out=below_all[1:])
        below = int(drawn @ below_all[left])
        tied = int(drawn @ (below_all[right] - below_all[left]))
        values[i] = (below + 0.5 * tied) / (n1 * n0)
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

    Evaluated as counts over the pooled scores sorted once (see `bootstrap_auc`): a value
    absent from a resample only repeats the ROC point before it, so the maximum over the
    pool's thresholds is the resample's own, bit for bit.
    """
    values = np.empty(resamples)
    n1, n0 = len(members), len(non_members)
    pooled = np.concatenate([members, non_members])
    order = np.argsort(-pooled, kind="mergesort")
    ordered = pooled[order]
    cuts = np.r_[np.nonzero(np.diff(ordered))[0], len(ordered) - 1]  # last index of each threshold
    is_member = order < n1
    for i in range(resamples):
        counts = np.concatenate([np.bincount(rng.integers(0, n1, n1), minlength=n1),
                                 np.bincount(rng.integers(0, n0, n0), minlength=n0)])[order]
        tps = np.cumsum(np.where(is_member, counts, 0))[cuts]
        fps = np.cumsum(np.where(is_member, 0, counts))[cuts]
        values[i] = float(np.max(np.r_[0.0, tps / n1 - fps / n0]))
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
