"""CAMIA's membership signals: how a record's per-token loss evolves along the record, and
their combination into one score by p-values calibrated on the non-members.

Chang, Shamsabadi, Katevas, Haddadi and Shokri, "Context-Aware Membership Inference Attacks
against Pre-trained Large Language Models", EMNLP 2025. A model that memorized a record
stops being uncertain early: its loss falls fast as the prefix grows, most tokens sit below
a small loss, and the loss trace is flat and predictable. Each signal is oriented before the
attack (higher = more member-like, from the paper's reasoning, never from labels), turned
into a p-value against the non-members, and the p-values are combined by Edgington's method.
"""

from __future__ import annotations

import math

import numpy as np

# Loss thresholds (nats) of the cut-off signals: the share of tokens below each.
CUTOFF_LOSSES = (1.0, 2.0, 3.0)  # Chang et al. 2025 reference code: log p >= -1, -2, -3
LZ_BINS = 4  # Lempel-Ziv complexity of the loss trace quantised into this many levels
# The names of the signals `trace_signals` returns, in its column order.
TRACE_SIGNALS = ("loss", "diversity_calibrated_loss", *(f"below_{c:g}_nats" for c in CUTOFF_LOSSES),
                 "slope", "above_prefix_mean", "lz_simplicity")


def trace_signals(logprobs: np.ndarray, targets: np.ndarray, prefix_tokens: int) -> np.ndarray:
    """One row of CAMIA's signals for one record, each oriented higher = more member-like.

    `logprobs`: log p of each true token; `targets`: the ids they predict; the trajectory
    signals read the first `prefix_tokens` positions (where the paper finds the context
    effect: later tokens have enough context to be predicted without memory).
    """
    lp = np.asarray(logprobs, dtype=np.float64)
    head = lp[:prefix_tokens]
    mean = float(lp.mean())
    # Repetitive records are easy for any model: dividing the (negative) mean log-likelihood
    # by the share of distinct tokens lowers theirs (the paper's token-diversity calibration).
    diversity = len(np.unique(targets)) / len(targets) if len(targets) else 1.0
    cutoffs = [float(np.mean(head >= -c)) for c in CUTOFF_LOSSES]
    return np.array([mean, mean / diversity, *cutoffs, _slope(head), _above_prefix_mean(head),
                     -_lempel_ziv(head, LZ_BINS)])


def _slope(values: np.ndarray) -> float:
    """Least-squares slope of log p over position: a memorized record's loss falls fast
    as its own prefix becomes context, so its log p rises."""
    if len(values) < 2:
        return 0.0
    x = np.arange(len(values), dtype=np.float64)
    x -= x.mean()
    return float(np.dot(x, values - values.mean()) / np.dot(x, x))


def _above_prefix_mean(values: np.ndarray) -> float:
    """Share of positions whose log p beats the mean of the positions before it: the loss
    keeps falling below what the record's own prefix had."""
    if len(values) < 2:
        return 0.0
    running = np.cumsum(values)[:-1] / np.arange(1, len(values))
    return float(np.mean(values[1:] > running))


def _lempel_ziv(values: np.ndarray, bins: int) -> float:
    """LZ76 phrase count per position of the log-p trace quantised into `bins` equal-width
    levels between its minimum and 0 (the paper's complexity signal); a memorized record's
    trace sits near 0 almost everywhere and parses into few phrases."""
    low = float(values.min())
    if low >= 0.0 or len(values) == 0:
        return 1.0 / max(len(values), 1)
    levels = np.minimum(((values - low) / -low * bins).astype(np.int64), bins - 1)
    seen: set[bytes] = set()
    start, width, n = 0, 1, len(levels)
    while start + width <= n:
        phrase = levels[start:start + width].tobytes()
        if phrase in seen:
            width += 1
        else:
            seen.add(phrase)
            start, width = start + width, 1
    return len(seen) / n


def population_p_values(members: np.ndarray, non_members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record's conformal p-value of one signal against the non-members (small = more
    member-like): p = (1 + #{non-members at least as high}) / (population + 1). NaN in,
    NaN out (a signal a record does not have), and the population is the non-members that
    have it.

    Leave-one-out: a non-member is compared with the OTHER non-members only. Counting
    itself would put every non-member at least one step above its fair p-value, which
    members never get, and inflate the AUC. Without it, a non-member's p-value is exactly
    uniform over 1/n0, ..., 1 when the non-members are exchangeable, as a fresh
    non-member's is against all n0 (up to the step 1/(n0+1)): the two sides are judged
    by the same rule and no record by a population that holds itself.
    """
    population = np.sort(non_members[np.isfinite(non_members)])
    n0 = len(population)

    def at_least(values: np.ndarray) -> np.ndarray:
        return n0 - np.searchsorted(population, values, side="left")

    p_members = np.full(len(members), np.nan)
    ok = np.isfinite(members)
    p_members[ok] = (1 + at_least(members[ok])) / (n0 + 1)
    p_non = np.full(len(non_members), np.nan)
    ok = np.isfinite(non_members)
    if n0 > 1:  # itself excluded: it is among the values at least as high as its own
        p_non[ok] = at_least(non_members[ok]) / n0
    return p_members, p_non


def edgington(p_values: np.ndarray) -> np.ndarray:
    """Edgington's combination, row by row: the probability that the sum of as many
    independent uniform p-values is at most the row's sum (Irwin-Hall CDF). Rows may have
    NaN (signals a record lacks): each is combined over what it has, so a record with
    fewer signals is not ranked by a sum of fewer terms."""
    out = np.empty(len(p_values))
    for i, row in enumerate(p_values):
        values = row[np.isfinite(row)]
        out[i] = _irwin_hall_cdf(float(values.sum()), len(values)) if len(values) else 1.0
    return out


def _irwin_hall_cdf(total: float, k: int) -> float:
    if total <= 1.0:  # the one term: exact and free of cancellation where members sit
        return math.exp(k * math.log(max(total, 1e-300)) - math.lgamma(k + 1))
    cdf = sum((-1) ** j * math.comb(k, j) * (total - j) ** k for j in range(int(total) + 1))
    return min(max(cdf / math.factorial(k), 0.0), 1.0)
