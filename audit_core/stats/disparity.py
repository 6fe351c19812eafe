"""How much worse a stratum fares than the whole cohort, with a paired bootstrap.

The stratum is part of the cohort, so the two figures are not independent: each
bootstrap resample draws members and non-members of the whole cohort with replacement
and computes the statistic on the resample and on its records inside the stratum. The
percentile interval of the difference and a one-sided p-value for "the stratum is
worse" (share of resamples where it is not, with the usual +1 correction; Davison and
Hinkley 1997, eq. 4.11) follow. An AUC difference of two independent groups is done the
same way without the pairing.

When the p-values of many strata are adjusted (Benjamini-Hochberg), `lower_bound` gives
the one-sided bound at the adjusted level read off the same draws, so that the bound a
report prints lies above 0 exactly when the p-value passes that level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from audit_core.stats.bootstrap_curves import ResampleStatistic, draw_counts
from audit_core.stats.intervals import CONFIDENCE


def stratum_disparity(statistic: ResampleStatistic, in_members: np.ndarray, in_non_members: np.ndarray,
                      rng: np.random.Generator, resamples: int = 1000,
                      confidence: float = CONFIDENCE, keep_draws: bool = False) -> dict[str, Any]:
    """Point estimate, percentile interval and one-sided p of stratum minus whole cohort
    (and, with `keep_draws`, the bootstrap differences under "draws", for `lower_bound`).

    `statistic` reads resamples as counts per record (stats.bootstrap_curves), so whole
    blocks of resamples are evaluated at once; the draws are one `rng.integers(0, n1, n1)`
    and one `rng.integers(0, n0, n0)` per resample, in that order, as they always were.
    The stratum's part of a resample is its counts with the records outside set to 0."""
    n1, n0 = len(in_members), len(in_non_members)
    whole = evaluate_once(statistic, np.ones(n1, dtype=np.int64), np.ones(n0, dtype=np.int64))
    inside = evaluate_once(statistic, in_members.astype(np.int64), in_non_members.astype(np.int64))
    if not (np.isfinite(whole) and np.isfinite(inside)):
        return {"value": None, "ci": None, "p_value": None, **({"draws": None} if keep_draws else {})}
    blocks = []
    for counts_m, counts_n in draw_counts(rng, (n1, n0), resamples, 2 * statistic.width + n1 + n0):
        d = statistic(counts_m * in_members, counts_n * in_non_members) - statistic(counts_m, counts_n)
        blocks.append(d[np.isfinite(d)])
    diffs = np.concatenate(blocks) if blocks else np.empty(0)
    out: dict[str, Any] = _summary(inside - whole, diffs, confidence)  # + "draws"
    if keep_draws:
        out["draws"] = diffs if out["p_value"] is not None else None
    return out


def evaluate_once(statistic: ResampleStatistic, counts_m: np.ndarray, counts_n: np.ndarray) -> float:
    """The statistic of one set of counts (ones: the whole cohort; a 0/1 mask: those rows)."""
    return float(statistic(counts_m[None, :], counts_n[None, :])[0])


def independent_difference(first: Callable[[np.ndarray], float], n_first: int,
                           second: Callable[[np.ndarray], float], n_second: int,
                           rng: np.random.Generator, resamples: int = 1000,
                           confidence: float = CONFIDENCE) -> dict[str, float | list[float] | None]:
    """first - second for two independent samples (members and non-members, say); each
    statistic takes the rows of its own sample."""
    a, b = first(np.arange(n_first)), second(np.arange(n_second))
    if not (np.isfinite(a) and np.isfinite(b)):
        return {"value": None, "ci": None, "p_value": None}
    diffs = []
    for _ in range(resamples):
        d = first(rng.integers(0, n_first, n_first)) - second(rng.integers(0, n_second, n_second))
        if np.isfinite(d):
            diffs.append(d)
    return _summary(a - b, np.asarray(diffs), confidence)


def lower_bound(draws: np.ndarray, level: float) -> float | None:
    """The one-sided lower confidence bound at 1 - level from the bootstrap draws of a
    difference, defined to agree exactly with `one_sided_p`: with k of n draws at
    or below 0, p = (k + 1) / (n + 1) <= level exactly when draw number
    floor(level (n + 1)) in ascending order (1-based) lies above 0. None: too few draws
    for this level (and then p cannot reach it either)."""
    j = int(np.floor(level * (len(draws) + 1)))
    if j < 1:
        return None
    return float(np.sort(draws)[j - 1])


def _summary(value: float, diffs: np.ndarray, confidence: float) -> dict[str, float | list[float] | None]:
    if len(diffs) < 10:  # almost every resample undefined: no honest interval
        return {"value": float(value), "ci": None, "p_value": None}
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return {"value": float(value), "ci": [float(low), float(high)], "p_value": one_sided_p(diffs)}


def one_sided_p(draws: np.ndarray) -> float:
    """p-value for "the difference is above 0": the share of draws at or below 0, with the
    usual +1 correction."""
    return float((int((np.asarray(draws) <= 0).sum()) + 1) / (len(draws) + 1))
