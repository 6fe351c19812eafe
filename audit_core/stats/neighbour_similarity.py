"""Neighbour similarity among the members, with a fair leave-one-out construction.

A model that memorized its training records places them in a tighter arrangement than
records it never saw: a training record lies close to other training records (each pulled
towards what it was fitted to), while a new record falls between them. The score of a
record is the mean cosine similarity of its embedding to its k most similar members.

Fairness is what makes this a membership test and not an artefact. A member must not be
compared with itself, so its pool is the other n-1 members (leave one out). A non-member's
pool must then also hold n-1 members, not all n: one member, drawn at random per
non-member (seeded), is left out of it. With equal pools, a member and a non-member drawn
from the same population by the same random split are exchangeable when the model never
saw the members, so the two score distributions are the same and the AUC is 0.5 in
expectation; only what the model learnt about the members can move it. The scores share
one pool of members, so they are not independent: the bootstrap interval of the AUC is
somewhat narrow, and the report's verdict rests on the held-out operating point as well.
"""

from __future__ import annotations

import numpy as np

_ROWS_PER_BLOCK = 1024  # similarity rows computed at a time: memory stays O(block x members)


def neighbour_similarity(members: np.ndarray, non_members: np.ndarray, k: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean cosine similarity to the k nearest members, for members and non-members."""
    m = _unit(members)
    n = _unit(non_members)
    k = max(1, min(k, len(m) - 1))
    member_scores = _top_k_mean(m, m, k, excluded=np.arange(len(m)))
    dropped = rng.integers(0, len(m), size=len(n))  # each non-member's pool loses one member
    return member_scores, _top_k_mean(n, m, k, excluded=dropped)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _top_k_mean(queries: np.ndarray, pool: np.ndarray, k: int, excluded: np.ndarray) -> np.ndarray:
    out = np.empty(len(queries))
    for start in range(0, len(queries), _ROWS_PER_BLOCK):
        block = queries[start:start + _ROWS_PER_BLOCK] @ pool.T
        rows = np.arange(len(block))
        block[rows, excluded[start:start + len(block)]] = -np.inf
        top = np.partition(block, block.shape[1] - k, axis=1)[:, -k:]
        out[start:start + len(block)] = top.mean(axis=1)
    return out
