"""AUROC and average precision of many bootstrap resamples at once.

Why: T2's intervals (2,000 resamples per category and tier) and T6's disparities (1,000
per stratum) called `stats.roc.auc` and `stats.precision_recall.average_precision` once
per resample from a Python loop, a third of the demo audit. Here a resample is how often
each record was drawn (a row of a count matrix), and both statistics become integer sums
of those counts over scores sorted once, so a block of resamples costs a few numpy calls.

The numbers are those of the loop:

* draws: `draw_counts` asks the generator for the same integers in the same order as one
  `rng.integers(0, n, n)` call per sample per resample (numpy's Generator fills a
  (B, n) request, or one with a bound per column, element by element in C order, exactly
  as B successive calls do; tests/core/test_bootstrap_curves.py holds it to that);
* AUROC: the Mann-Whitney counts are integers, so every value is bit for bit what
  `stats.roc.auc` gives on the resample, non-finite scores included;
* average precision: the same per-threshold terms as `average_precision`, summed in
  another grouping (scores absent from a resample add exact zeros), so equal to about
  1e-16; finite scores only (`average_precision` splits tied infinities and NaNs into
  separate thresholds in resample order, which counts do not keep).

Blocks of resamples are sized so that a block's temporaries hold about a million numbers
(8 MB) whatever the cohort; with 200,000 patients a block is one resample (T2's peak:
15 MB, against 290 MB for 20 resamples at once).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

# Numbers held at once by a block (8 bytes each: 8 MB); each caller says how many one
# resample needs at its peak (`width`). Larger blocks are slower, not faster: every
# temporary of many MB is fresh memory from the system, paid in page faults (measured on
# T2's bootstrap: 5.7 ms per 2,000 resamples of 250 patients at 1e6, 20 ms at 2e7).
_BLOCK_CELLS = 1_000_000
# Samples of unequal sizes: numbers per resample from which one generator call per sample
# beats a single call with a bound per column (measured crossover ~700).
_PER_COLUMN_BOUNDS_BELOW = 700


class ResampleStatistic(Protocol):
    """A statistic of a resample of members and non-members given as count matrices
    (resamples, n1) and (resamples, n0); NaN where it is undefined on a resample."""

    width: int  # int64 cells one resample holds at the statistic's peak (sizes the blocks)

    def __call__(self, counts_m: np.ndarray, counts_n: np.ndarray, /) -> np.ndarray: ...


def block_rows(width: int, resamples: int) -> int:
    """Resamples per block so that `width` cells each stay within the memory budget."""
    return max(1, min(resamples, _BLOCK_CELLS // max(width, 1)))


def draw_picks(rng: np.random.Generator, sizes: Sequence[int], resamples: int,
               width: int) -> Iterator[np.ndarray]:
    """Blocks (rows, sum(sizes)) of resample indices: columns of sample k hold the
    `rng.integers(0, sizes[k], sizes[k])` draw of that resample, samples in order."""
    sizes = [int(n) for n in sizes]
    total = sum(sizes)
    rows = block_rows(width + 3 * total, resamples)
    edges = np.cumsum([0, *sizes])
    for start in range(0, resamples, rows):
        shape = (min(rows, resamples - start), total)
        if len(set(sizes)) == 1:
            yield rng.integers(0, sizes[0], shape)
        elif total < _PER_COLUMN_BOUNDS_BELOW:  # one call with a bound per column
            yield rng.integers(0, np.repeat(sizes, sizes), shape)
        else:  # that call costs ~20 ns a number, a call per sample ~3 us plus ~2 ns a number
            picks = np.empty(shape, dtype=np.int64)
            for row in picks:
                for n, a in zip(sizes, edges):
                    row[a:a + n] = rng.integers(0, n, n)
            yield picks


def counts_of(picks: np.ndarray, n: int) -> np.ndarray:
    """(rows, n) int64: how often each of n records is drawn in each row of `picks`."""
    rows = len(picks)
    flat = (picks + (np.arange(rows) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n)


def draw_counts(rng: np.random.Generator, sizes: Sequence[int], resamples: int,
                width: int) -> Iterator[list[np.ndarray]]:
    """Blocks of count matrices, one per sample, from the draws of `draw_picks`."""
    for picks in draw_picks(rng, sizes, resamples, width):
        edges = np.cumsum([0, *sizes])
        yield [counts_of(picks[:, a:b], b - a) for a, b in zip(edges[:-1], edges[1:])]


class RankedAuc:
    """AUROC of fixed positive against negative scores, each weighted by a count per
    resample: `stats.roc.auc` on the resample (ties one half), NaN when a side is empty."""

    def __init__(self, positives: np.ndarray, negatives: np.ndarray) -> None:
        self._order = np.argsort(negatives, kind="stable")
        ranked = negatives[self._order]
        # As in roc.auc: the negatives below each positive and those tied with it are the
        # cumulative counts at these two sorted positions.
        self._left = np.searchsorted(ranked, positives, side="left")
        self._right = np.searchsorted(ranked, positives, side="right")
        self.width = 5 * len(positives) + 2 * len(negatives) + 2

    @property
    def order(self) -> np.ndarray:
        """The negatives' columns in ascending score order (what `ranked` takes)."""
        return self._order

    def __call__(self, weights_pos: np.ndarray, weights_neg: np.ndarray) -> np.ndarray:
        return self.ranked(weights_pos, np.take(weights_neg, self._order, axis=1))

    def ranked(self, weights_pos: np.ndarray, ranked_neg: np.ndarray) -> np.ndarray:
        """`self(weights_pos, weights_neg)` given `weights_neg[:, order]` (a caller that
        gathers its columns anyway folds the sorting into that one gather)."""
        rows = len(weights_pos)
        below_all = np.zeros((rows, len(self._order) + 1), dtype=np.int64)
        np.cumsum(ranked_neg, axis=1, out=below_all[:, 1:])
        # 2 below + tied in one pass: each member's negatives below plus those at or below.
        twice = np.einsum("ij,ij->i", weights_pos,
                          np.take(below_all, self._left, axis=1) + np.take(below_all, self._right, axis=1))
        n1, n0 = weights_pos.sum(axis=1), below_all[:, -1]
        # roc.auc's (below + 0.5 tied) / (n1 n0): below + 0.5 tied is a half-integer under
        # 2^52, so twice * 0.5 is that same float exactly.
        with np.errstate(divide="ignore", invalid="ignore"):
            values = twice * 0.5 / (n1 * n0)
        return np.where((n1 > 0) & (n0 > 0), values, np.nan)


class RankedPrecision:
    """Average precision of fixed finite scores and labels, each record weighted by a count
    per resample: `average_precision` on the resample (tied scores one threshold), NaN
    without a positive."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray) -> None:
        if not np.isfinite(scores).all():
            raise ValueError("RankedPrecision takes finite scores only")
        order = np.argsort(-scores, kind="stable")
        ordered = scores[order]
        self._order, self._labels = order, labels.astype(bool)[order]
        self._ends = np.r_[np.nonzero(np.diff(ordered))[0], len(ordered) - 1]  # last of each distinct score
        self.width = 4 * len(scores) + 6 * len(self._ends)

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        if not len(self._order):
            return np.full(len(counts), np.nan)
        drawn = np.take(counts, self._order, axis=1)
        # Cumulative counts at the end of each distinct score, as average_precision takes
        # them at the end of each block of tied scores.
        counted = np.cumsum(drawn, axis=1)[:, self._ends]
        hits = np.cumsum(drawn * self._labels, axis=1)[:, self._ends]
        gained = np.diff(hits, axis=1, prepend=0)
        # A score absent from the resample gains 0 (its term is 0; the max only avoids 0/0).
        # int64 / int64 in numpy divides the two as float64: the same, faster spelt out.
        terms = (gained * hits).astype(np.float64) / np.maximum(counted, 1).astype(np.float64)
        positives = hits[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = terms.sum(axis=1) / positives
        return np.where(positives > 0, values, np.nan)
