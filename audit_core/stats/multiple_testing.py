"""Multiple-testing control across subgroups: Benjamini-Hochberg q-values.

Benjamini and Hochberg, "Controlling the False Discovery Rate", JRSS B 1995. Flagging a
stratum when its q-value is at most q keeps the expected share of false flags among all
flags at most q (for independent or positively dependent tests).
"""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Adjusted p-values (q-values), in the order given; each is at least its raw p."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    # Step-up: each q is the smallest adjusted value at its rank or above.
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(ranked, 1.0)
    return [float(v) for v in q]
