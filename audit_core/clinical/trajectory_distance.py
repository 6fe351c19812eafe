"""The time-aware earth mover's distance between two code trajectories (Tonekaboni et
al. 2025, T1), as their code does it but on the model's own code distances.

Both trajectories get uniform mass 1/L per position, L = the longer length; the shorter
is padded with empty positions. The cost of moving code a_i (at time t_i) onto â_j (at
t̂_j) is d(a_i, â_j) * (1 + |t_i - t̂_j|), d in [0, 1], times in years since the end of
the prompt; a padded position costs 2 (the paper's 1, doubled by the time factor), so a
length mismatch is penalised. With uniform equal masses the optimal transport plan is
an assignment (Birkhoff), solved exactly by the Hungarian algorithm.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from audit_core.clinical.embeddings import CodeDistance

PAD_COST = 2.0


def trajectory_emd(codes_a: np.ndarray, times_a: np.ndarray, codes_b: np.ndarray,
                   times_b: np.ndarray, distance: CodeDistance) -> float:
    """d_EMD between two (codes, times) trajectories; 0 for identical ones, at most 2."""
    n, m = len(codes_a), len(codes_b)
    size = max(n, m)
    if size == 0:
        return 0.0
    cost = np.full((size, size), PAD_COST)
    if n and m:
        cost[:n, :m] = distance.matrix(codes_a, codes_b) * (1.0 + np.abs(times_a[:, None] - times_b[None, :]))
        if n != m:  # padding against padding is free
            cost[n:, m:] = 0.0
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum() / size)


def code_set_precision_recall(generated: np.ndarray, truth: np.ndarray) -> tuple[float | None, float | None]:
    """Precision and recall of the generated distinct codes against the true ones."""
    g, t = set(generated.tolist()), set(truth.tolist())
    shared = len(g & t)
    return (shared / len(g) if g else None, shared / len(t) if t else None)
