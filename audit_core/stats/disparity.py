"""How much worse a stratum fares than the whole cohort, with a paired bootstrap.

The stratum is part of the cohort, so the two figures are not independent: each
bootstrap resample draws members and non-members of the whole cohort with replacement
and computes the statistic on the resample and on its records inside the stratum. The
percentile interval of the difference and a one-sided p-value for "the stratum is
worse" (share of resamples where it is not, with the usual +1 correction; Davison and
Hinkley 1997, eq. 4.11) follow. An AUC difference of two independent groups is done the
same way without the pairing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from audit_core.stats.intervals import CONFIDENCE

# statistic(member rows, non-member rows) -> value, NaN when undefined on those rows
Statistic = Callable[[np.ndarray, np.ndarray], float]


def stratum_disparity(statistic: Statistic, in_members: np.ndarray, in_non_members: np.ndarray,
                      rng: np.random.Generator, resamples: int = 1000,
                      confidence: float = CONFIDENCE) -> dict[str, float | list[float] | None]:
    """Point estimate, percentile interval and one-sided p of stratum minus whole cohort."""
    n1, n0 = len(in_members), len(in_non_members)
    everyone_m, everyone_n = np.arange(n1), np.arange(n0)
    whole = statistic(everyone_m, everyone_n)
    inside = statistic(everyone_m[in_members], everyone_n[in_non_members])
    if not (np.isfinite(whole) and np.isfinite(inside)):
        return {"value": None, "ci": None, "p_value": None}
    diffs = []
    for _ in range(resamples):
        rows_m, rows_n = rng.integers(0, n1, n1), rng.integers(0, n0, n0)
        d = (statistic(rows_m[in_members[rows_m]], rows_n[in_non_members[rows_n]])
             - statistic(rows_m, rows_n))
        if np.isfinite(d):
            diffs.append(d)
    return _summary(inside - whole, np.asarray(diffs), confidence)


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


def _summary(value: float, diffs: np.ndarray, confidence: float) -> dict[str, float | list[float] | None]:
    if len(diffs) < 10:  # almost every resample undefined: no honest interval
        return {"value": float(value), "ci": None, "p_value": None}
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    p_value = (int((diffs <= 0).sum()) + 1) / (len(diffs) + 1)
    return {"value": float(value), "ci": [float(low), float(high)], "p_value": float(p_value)}
