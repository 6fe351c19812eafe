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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from audit_core.clinical.embeddings import CodeDistance

PAD_COST = 2.0


@dataclass(frozen=True, slots=True)
class Points:
    """A trajectory read once for many distances (T1 compares each true trajectory with
    every sample and baseline, and each baseline with every true trajectory)."""

    codes: np.ndarray
    times: np.ndarray
    vectors: np.ndarray | None  # CodeDistance.vectors(codes)


def points(codes: np.ndarray, times: np.ndarray, distance: CodeDistance) -> Points:
    return Points(codes, times, distance.vectors(codes))


def trajectory_emd(codes_a: np.ndarray, times_a: np.ndarray, codes_b: np.ndarray,
                   times_b: np.ndarray, distance: CodeDistance) -> float:
    """d_EMD between two (codes, times) trajectories; 0 for identical ones, at most 2."""
    return points_emd(points(codes_a, times_a, distance), points(codes_b, times_b, distance), distance)


def points_emd(a: Points, b: Points, distance: CodeDistance) -> float:
    """`trajectory_emd` of two prepared trajectories."""
    return emd_to_each(a, [b], distance)[0]


def emd_to_each(a: Points, others: Sequence[Points], distance: CodeDistance) -> list[float]:
    """`[points_emd(a, b, distance) for b in others]`: the cost matrices against all of
    them are built side by side (each code distance the product `CodeDistance.between`
    takes, the elementwise rest in one pass: the same floats), then solved one by one."""
    n = len(a.codes)
    placed = [b for b in others if n and len(b.codes)]
    moved = distance.between_each(a.codes, a.vectors, [(b.codes, b.vectors) for b in placed])
    if placed:
        moved *= 1.0 + np.abs(a.times[:, None] - np.concatenate([b.times for b in placed])[None, :])
    out, start = [], 0
    for b in others:
        m = len(b.codes)
        size = max(n, m)
        if size == 0:
            out.append(0.0)
            continue
        if n and m:
            block, start = moved[:, start:start + m], start + m
        if n and n == m:
            cost = block  # nothing padded
        else:
            cost = np.full((size, size), PAD_COST)
            if n and m:
                cost[:n, :m] = block
                cost[n:, m:] = 0.0  # padding against padding is free
        rows, cols = linear_sum_assignment(cost)
        out.append(float(cost[rows, cols].sum() / size))
    return out


def code_set_precision_recall(generated: np.ndarray, truth: np.ndarray) -> tuple[float | None, float | None]:
    """Precision and recall of the generated distinct codes against the true ones."""
    g, t = set(generated.tolist()), set(truth.tolist())
    shared = len(g & t)
    return (shared / len(g) if g else None, shared / len(t) if t else None)
