"""The vectorized bootstrap statistics (stats.bootstrap_curves) give the figures the
per-resample loop gave: the same draws from the generator, AUROC bit for bit as
stats.roc.auc, average precision as stats.precision_recall.average_precision to float
rounding, the same NaN where a resample lacks a class, and blocks that stay small on a
hospital-sized cohort."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from audit_core.stats import bootstrap_curves
from audit_core.stats.bootstrap_curves import (
    RankedAuc,
    RankedPrecision,
    counts_of,
    draw_counts,
    draw_picks,
)
from audit_core.stats.disparity import stratum_disparity
from audit_core.stats.precision_recall import average_precision
from audit_core.stats.roc import auc


def _scores(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.round(rng.random(n), 1)  # ten values: many ties


@pytest.mark.parametrize("sizes", [(37,), (37, 37), (23, 61), (5, 1, 8), (400, 350)])  # the last: a call per sample
def test_blocks_of_draws_are_the_loops_draws(monkeypatch, sizes) -> None:
    monkeypatch.setattr(bootstrap_curves, "_BLOCK_CELLS", 500)  # many blocks, uneven last one
    loop = np.random.default_rng(3)
    expected = [np.concatenate([loop.integers(0, n, n) for n in sizes]) for _ in range(45)]
    rng = np.random.default_rng(3)
    drawn = np.concatenate(list(draw_picks(rng, sizes, 45, width=10)))
    np.testing.assert_array_equal(drawn, np.asarray(expected))
    assert rng.integers(0, 1 << 40) == loop.integers(0, 1 << 40)  # the generator is where the loop left it
    counts = [np.concatenate(c) for c in zip(*draw_counts(np.random.default_rng(3), sizes, 45, width=10))]
    edges = np.cumsum([0, *sizes])
    for k, n in enumerate(sizes):
        np.testing.assert_array_equal(counts[k], [np.bincount(e[edges[k]:edges[k + 1]], minlength=n)
                                                  for e in expected])


def _resample_values(scores, labels, picks):
    """The loop's figures: roc.auc and average_precision on each resample (NaN: a class missing)."""
    out = np.full((len(picks), 2), np.nan)
    for b, pick in enumerate(picks):
        y, s = labels[pick], scores[pick]
        if y.any() and not y.all():
            out[b] = auc(s[y], s[~y]), average_precision(s, y)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_auroc_and_average_precision_equal_the_scalar_ones_with_ties(seed) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 60))
    labels, scores = rng.random(n) < 0.3, _scores(rng, n)
    picks = rng.integers(0, n, (300, n))
    counts = counts_of(picks, n)
    expected = _resample_values(scores, labels, picks)
    got = RankedAuc(scores[labels], scores[~labels])(counts[:, labels], counts[:, ~labels])
    np.testing.assert_array_equal(got[~np.isnan(expected[:, 0])], expected[~np.isnan(expected[:, 0]), 0])
    assert np.isnan(got[np.isnan(expected[:, 0])]).all()
    precision = RankedPrecision(scores, labels)(counts)
    defined = ~np.isnan(expected[:, 1])
    np.testing.assert_allclose(precision[defined], expected[defined, 1], rtol=0, atol=1e-12)


def test_degenerate_resamples_are_nan_or_the_scalar_value() -> None:
    scores, labels = np.array([0.2, 0.2, 0.2, 0.2]), np.array([True, False, True, False])
    counts = np.array([[1, 1, 1, 1],  # all scores equal: AUROC 1/2, AP the prevalence
                       [2, 0, 2, 0],  # positives only: no AUROC; AP defined (1.0)
                       [0, 2, 0, 2],  # negatives only: neither
                       [0, 0, 0, 0]])  # nothing drawn
    roc = RankedAuc(scores[labels], scores[~labels])(counts[:, labels], counts[:, ~labels])
    assert roc[0] == auc(scores[labels], scores[~labels]) == 0.5
    assert np.isnan(roc[1:]).all()
    ap = RankedPrecision(scores, labels)(counts)
    assert ap[0] == average_precision(scores, labels) == 0.5
    assert ap[1] == average_precision(scores[[0, 0, 2, 2]], labels[[0, 0, 2, 2]]) == 1.0
    assert np.isnan(ap[2]) and np.isnan(average_precision(scores[[1, 3]], labels[[1, 3]]))
    assert np.isnan(ap[3])
    empty = RankedAuc(np.zeros(0), scores)(np.zeros((2, 0), dtype=np.int64), np.ones((2, 4), dtype=np.int64))
    assert np.isnan(empty).all()
    with pytest.raises(ValueError, match="finite"):
        RankedPrecision(np.array([0.1, np.nan]), np.array([True, False]))


def test_auroc_of_non_finite_scores_is_still_the_scalar_one() -> None:
    rng = np.random.default_rng(5)
    scores = np.r_[_scores(rng, 30), np.nan, np.nan, np.inf, -np.inf, np.inf]
    labels = rng.random(len(scores)) < 0.4
    picks = rng.integers(0, len(scores), (100, len(scores)))
    counts = counts_of(picks, len(scores))
    got = RankedAuc(scores[labels], scores[~labels])(counts[:, labels], counts[:, ~labels])
    expected = [auc(scores[p][labels[p]], scores[p][~labels[p]]) for p in picks]
    np.testing.assert_array_equal(got, expected)


def _loop_disparity(members, non_members, in_m, in_n, rng, resamples):
    """The paired bootstrap as it was: one draw per cohort per resample, roc.auc each time."""
    def statistic(rows_m, rows_n):
        return auc(members[rows_m], non_members[rows_n]) if len(rows_m) and len(rows_n) else np.nan
    n1, n0 = len(members), len(non_members)
    diffs = []
    for _ in range(resamples):
        rows_m, rows_n = rng.integers(0, n1, n1), rng.integers(0, n0, n0)
        d = statistic(rows_m[in_m[rows_m]], rows_n[in_n[rows_n]]) - statistic(rows_m, rows_n)
        if np.isfinite(d):
            diffs.append(d)
    return np.asarray(diffs)


def test_stratum_disparity_draws_are_the_loops_draws(monkeypatch) -> None:
    monkeypatch.setattr(bootstrap_curves, "_BLOCK_CELLS", 5_000)
    rng = np.random.default_rng(8)
    members, non_members = _scores(rng, 70), _scores(rng, 50)
    in_m, in_n = rng.random(70) < 0.1, rng.random(50) < 0.1  # small: some resamples miss a side
    expected = _loop_disparity(members, non_members, in_m, in_n, np.random.default_rng(1), 400)
    got = stratum_disparity(RankedAuc(members, non_members), in_m, in_n, np.random.default_rng(1), 400,
                            keep_draws=True)
    assert 10 < len(expected) < 400
    np.testing.assert_array_equal(got["draws"], expected)
    whole, inside = auc(members, non_members), auc(members[in_m], non_members[in_n])
    assert got["value"] == inside - whole


def test_a_hospital_cohort_is_bootstrapped_in_small_blocks() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    labels, scores = rng.random(n) < 0.05, rng.random(n)
    roc, precision = RankedAuc(scores[labels], scores[~labels]), RankedPrecision(scores, labels)
    tracemalloc.start()
    for picks in draw_picks(rng, [n], 20, roc.width + precision.width):  # 20 at once: ~500 MB
        counts = counts_of(picks, n)
        roc(counts[:, labels], counts[:, ~labels])
        precision(counts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6, f"{peak / 1e6:.0f} MB"
