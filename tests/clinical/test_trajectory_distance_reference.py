"""`emd_to_each` builds one truth's cost matrices against many trajectories side by side;
each distance is the float the former pair-by-pair `trajectory_emd` (kept here as the
reference) gives: embedding and hierarchy distances, empty and one-code trajectories
(other matrix products), equal and unequal lengths, repeated codes and times."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from audit_core.clinical.embeddings import CodeDistance, code_distance
from audit_core.clinical.trajectory_distance import emd_to_each, points, points_emd, trajectory_emd

_TOKENS = ["E11.9", "E11.65", "E10.9", "I10", "I11.0", "K21.00", "LAB_A", "RX_METFORMIN",
           "F32.9", "Z21", "B20", "428.0", "250.00", "V08"]


def _reference(codes_a, times_a, codes_b, times_b, distance: CodeDistance) -> float:
    n, m = len(codes_a), len(codes_b)
    size = max(n, m)
    if size == 0:
        return 0.0
    cost = np.full((size, size), 2.0)
    if n and m:
        if distance.unit is not None:
            matrix = np.clip((1.0 - distance.unit[codes_a] @ distance.unit[codes_b].T) / 2.0, 0.0, 1.0)
        else:
            matrix = distance.matrix(codes_a, codes_b)
        cost[:n, :m] = matrix * (1.0 + np.abs(times_a[:, None] - times_b[None, :]))
        if n != m:
            cost[n:, m:] = 0.0
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum() / size)


def _trajectory(rng: np.random.Generator, size: int):
    codes = rng.integers(0, len(_TOKENS), size=size).astype(np.int64)
    times = np.sort(rng.choice([0.0, 0.25, 1.0 / 3.0, 1.5, 2.0], size=size)) if rng.random() < 0.5 \
        else np.cumsum(rng.exponential(0.7, size=size))
    return codes, times.astype(np.float64)


@pytest.mark.parametrize("embedded", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_each_distance_is_the_pairwise_one(embedded: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocabulary = {token: i for i, token in enumerate(_TOKENS)}
    embeddings = rng.normal(size=(len(_TOKENS), 16)) if embedded else None
    if embedded and seed % 3 == 0:  # identical rows: cosine products at (and past) 1
        embeddings[1] = embeddings[0] * 3.0
    distance = code_distance(vocabulary, embeddings)
    for _ in range(15):
        truth = _trajectory(rng, int(rng.choice([0, 1, 2, 5, 9])))
        others = [_trajectory(rng, int(rng.choice([0, 1, 2, 3, 5, 9, 12]))) for _ in range(int(rng.integers(0, 25)))]
        expected = [_reference(*truth, *o, distance) for o in others]
        prepared = points(*truth, distance)
        assert emd_to_each(prepared, [points(*o, distance) for o in others], distance) == expected
        assert [points_emd(prepared, points(*o, distance), distance) for o in others] == expected
        assert [trajectory_emd(*truth, *o, distance) for o in others] == expected
