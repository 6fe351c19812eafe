"""The nucleus (top-p) cutoff of many rows of probabilities, found without sorting whole rows.

The definition is the full sort's (batch_decoding.sampling_distribution keeps every token at
least as likely as the cutoff):

    ranked = -np.sort(-probs, axis=1)                  # descending
    before = np.cumsum(ranked, axis=1) - ranked        # float64, sequential running sum
    last = (before < top_p).sum(axis=1) - 1
    cutoff = ranked[row, max(last, 0)]

and `nucleus_cutoff` returns exactly those bits, ties and rounding included, while sorting
only each row's likeliest tokens (issue 21: on the demo's 801-token vocabulary the full sort
and running sum were most of the time spent around the decoder; a row needs about 20 of
them, rarely more than 150).

Why it is exact. Each row's candidates are the tokens with p >= t for a threshold t (chosen
below). Every other token is below t, so the descending sort
of the candidates is exactly the first m entries of the row's full sort (equal values are
interchangeable: ties keep their values), and numpy's cumsum is a sequential running sum,
so the running sums of those m entries have the same bits as the full row's first m. The
only thing left to show is that no entry after the m-th has `before < top_p`, i.e. that
counting among the candidates counts everything. Let c_j be the running sum after entry j
(c_{m-1} the candidates' total) and u = 2**-53. For i >= m, before_i = fl(fl(c_{i-1} + r_i)
- r_i) with c_{i-1} >= c_{m-1} (running sums of non-negative terms never decrease, rounding
being monotonic) and r_i <= r_0 = c_0 <= c_{i-1}. That expression is monotonic in c_{i-1},
and for a >= r >= 0, fl(fl(a + r) - r) = (a + (a + r) d1)(1 + d2) with |d1|, |d2| <= u, which
is at least a (1 - 2u)(1 - u) >= a (1 - 3u). So before_i >= c_{m-1} (1 - 3u) for every i >= m,
and fl(c_{m-1} (1 - 4u)) >= top_p (which is at most c_{m-1} (1 - 4u)(1 + u) <= c_{m-1} (1 - 3u))
makes every such before_i >= top_p. A row whose candidates fall short of that (or a row of
NaN, where every comparison fails) is sorted in full, so the result never depends on the
threshold, only the time does.

The threshold: first t = 2**-(ceil(log2 V) + 1), about 1 / (2V): the tokens below it hold
less than V t <= 1/2 of the mass, and in practice the candidates reach top_p (on the demo
96% of the rows at top_p 0.95, with 60 candidates a row on average, against 801 tokens);
the rows they do not prove are tried again at t / 16 (less than 1/32 of the mass below),
and the rest (nearly flat rows, or top_p within rounding of 1) are sorted in full.
"""

from __future__ import annotations

import numpy as np

from audit_core.models.ragged_rows import RaggedRows

# 1 - 4u (module doc).
_PROOF_FACTOR = 1.0 - 2.0**-51
# The second threshold, as a fraction of the first (module doc).
_RETRY_SCALE = 1.0 / 16.0
_TRIES = 2
# Rows are sorted in groups of similar candidate counts, each padded to the group's width
# (a few wide rows do not widen every row); a row with more than half the vocabulary as
# candidates is left to the next try.
_GROUP_WIDTHS = (16, 64, 256, 1024, 4096, 16384)


def nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Flat indices, in row-major order, of each row's nucleus in `probs` (rows, V) float64,
    non-negative: the entries at least as likely as the row's `nucleus_cutoff`."""
    return _nucleus(probs, top_p)[1]


def nucleus_cutoff(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Per row of `probs` (rows, V) float64, non-negative, the probability of the last token
    needed to reach `top_p` in descending order: the full sort's cutoff, to the bit (module
    doc)."""
    return _nucleus(probs, top_p)[0]


def _nucleus(probs: np.ndarray, top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """The cutoffs, and the flat indices of the entries at or above them."""
    rows, width = probs.shape
    cutoff = np.zeros(rows)
    if rows == 0 or width == 0:
        return cutoff, np.zeros(0, dtype=np.intp)
    tries: list[tuple[np.ndarray, RaggedRows, np.ndarray]] = []
    todo = np.arange(rows)  # rows whose cutoff is still to be found
    wide: list[np.ndarray] = []  # rows with too many candidates: sorted in full
    threshold = np.ldexp(1.0, -(int(np.ceil(np.log2(width))) + 1))
    limits = tuple(w for w in _GROUP_WIDTHS if w < width // 2) + (max(width // 2, 1),)
    for _ in range(_TRIES):
        if len(todo) == 0:
            break
        some = probs if len(todo) == rows else probs[todo]
        candidate = some >= threshold
        counts = np.count_nonzero(candidate, axis=1)
        narrow = (counts > 0) & (counts <= limits[-1])  # a lower threshold only widens them
        wide.append(todo[~narrow])
        candidate[~narrow] = False
        candidates = RaggedRows(candidate.ravel().nonzero()[0], some)
        proven = np.zeros(len(todo), dtype=bool)
        for block in candidates.blocks(limits):
            found, sure = _cutoff_of_candidates(block.pad(candidates.values),
                                                candidates.counts[block.rows], top_p)
            cutoff[todo[block.rows[sure]]] = found[sure]
            proven[block.rows[sure]] = True
        tries.append((todo, candidates, proven))
        todo = todo[narrow & ~proven]
        threshold *= _RETRY_SCALE
    todo = np.concatenate([todo, *wide])
    if len(todo):
        cutoff[todo] = _full_sort_cutoff(probs[todo], top_p)
        return cutoff, (probs >= cutoff[:, None]).ravel().nonzero()[0]
    # A proven row's cutoff is one of its candidates, which hold every value at or above it.
    kept = []
    for rows_tried, candidates, proven in tries:
        row_of = candidates.row_of
        inside = proven[row_of] & (candidates.values >= cutoff[rows_tried[row_of]])
        kept.append(rows_tried[row_of[inside]] * width + candidates.column[inside])
    return cutoff, kept[0] if len(kept) == 1 else np.sort(np.concatenate(kept))


def _cutoff_of_candidates(compact: np.ndarray, counts: np.ndarray,
                          top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """The cutoff of rows given by their candidates (zero-padded on the right), and whether
    the candidates' running sum proves it (module doc)."""
    ranked = -np.sort(-compact, axis=1)
    running = np.cumsum(ranked, axis=1)
    before = running - ranked  # past a row's candidates: its total, at least top_p if proven
    proven = running[np.arange(len(compact)), counts - 1] * _PROOF_FACTOR >= top_p
    last = (before < top_p).sum(axis=1) - 1
    return ranked[np.arange(len(compact)), np.maximum(last, 0)], proven


def _full_sort_cutoff(probs: np.ndarray, top_p: float) -> np.ndarray:
    """The definition itself (module doc)."""
    ranked = -np.sort(-probs, axis=1)
    before = np.cumsum(ranked, axis=1) - ranked
    last = (before < top_p).sum(axis=1) - 1
    return ranked[np.arange(len(probs)), np.maximum(last, 0)]
