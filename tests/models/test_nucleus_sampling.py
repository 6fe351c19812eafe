"""Top-p sampling without sorting or summing whole rows (models/nucleus.py, token_draw.py)
gives exactly the bits of the straightforward definitions (a full sort, a running sum over
the whole row): on random rows, peaked and flat ones, ties, zeros, dyadic values whose
running sums meet top_p or the draw exactly, top_p near 0 and 1, temperatures."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.models.batch_decoding import _distribution, sampling_distribution
from audit_core.models.nucleus import nucleus, nucleus_cutoff
from audit_core.models.token_draw import draw_tokens

TOP_PS = (1e-12, 0.01, 0.3, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999999, 1.0 - 1e-12, 1.0 - 2.0**-53)


def _reference_cutoff(probs: np.ndarray, top_p: float) -> np.ndarray:
    ranked = -np.sort(-probs, axis=1)
    before = np.cumsum(ranked, axis=1) - ranked
    last = (before < top_p).sum(axis=1) - 1
    return ranked[np.arange(len(probs)), np.maximum(last, 0)]


def _reference_distribution(logits: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    values = logits.astype(np.float64) / temperature
    values -= values.max(axis=-1, keepdims=True)
    probs = np.exp(values)
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p < 1.0:
        probs = np.where(probs >= _reference_cutoff(probs, top_p)[:, None], probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def _reference_draw(probs: np.ndarray, draws: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(probs, axis=1)
    scaled = draws * cumulative[:, -1]
    return np.minimum((cumulative <= scaled[:, None]).sum(axis=1), probs.shape[1] - 1)


def _logits(rng: np.random.Generator, rows: int, width: int) -> np.ndarray:
    """Rows of many kinds, shuffled: peaked, flat, tied, a few likely tokens, -inf."""
    kinds = [
        rng.normal(0, 8, (rows, width)),  # peaked
        rng.normal(0, 2, (rows, width)),
        rng.normal(0, 0.05, (rows, width)),  # nearly flat
        np.zeros((rows, width)),  # all tied
        rng.integers(-3, 1, (rows, width)) * 2.0,  # few distinct values: ties everywhere
        np.where(rng.random((rows, width)) < 0.9, -np.inf, rng.normal(0, 1, (rows, width))),  # zeros
        np.log(rng.dirichlet(np.full(width, 0.05), rows) + 1e-300),  # a few likely tokens
    ]
    mixed = np.concatenate(kinds)
    mixed[np.isneginf(mixed).all(axis=1), 0] = 0.0  # a row needs one finite logit
    return mixed[rng.permutation(len(mixed))].astype(np.float32)


def _dyadic_rows(width: int) -> np.ndarray:
    """Probabilities that are sums of powers of two: running sums land exactly on top_p
    (0.5, 0.75, ...) and on draws times the total."""
    rows = [np.zeros(width) for _ in range(4)]
    rows[0][:3] = [0.5, 0.25, 0.25][:width]
    rows[1][: min(width, 8)] = 0.125
    rows[2][::2] = 1.0
    halves = 0.5 ** np.arange(1, width + 1)
    rows[3][:] = np.roll(halves, width // 3)
    return np.array(rows) / np.array(rows).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("width", [1, 2, 5, 64, 801, 3000])
def test_the_cutoff_and_the_nucleus_are_the_full_sorts(width: int) -> None:
    rng = np.random.default_rng(width)
    logits = _logits(rng, 12, width)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True)).astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)
    unnormalised = rng.random((8, width)) * (rng.random((8, width)) < 0.3) * 7.0
    for rows in (probs, _dyadic_rows(width), unnormalised):
        for top_p in TOP_PS + (0.875, 0.9375, 0.0):
            expected = _reference_cutoff(rows, top_p)
            assert nucleus_cutoff(rows, top_p).tobytes() == expected.tobytes(), top_p
            np.testing.assert_array_equal(nucleus(rows, top_p),
                                          np.flatnonzero(rows >= expected[:, None]))


@pytest.mark.parametrize("width", [2, 7, 801, 5000])
def test_the_distribution_is_the_full_sorts_to_the_bit(width: int) -> None:
    rng = np.random.default_rng(100 + width)
    logits = _logits(rng, 10, width)
    for temperature in (0.3, 0.7, 1.0, 1.7):
        for top_p in TOP_PS + (1.0,):
            expected = _reference_distribution(logits, temperature, top_p)
            probs, kept = _distribution(logits, temperature, top_p)
            assert probs.tobytes() == expected.tobytes(), (temperature, top_p)
            assert sampling_distribution(logits, temperature, top_p).tobytes() == expected.tobytes()
            if kept is not None:  # every non-zero entry, in order (a zero at the cutoff too)
                assert (np.diff(kept) > 0).all() and np.isin(np.flatnonzero(expected), kept).all()


def test_greedy_is_one_token_per_row() -> None:
    logits = _logits(np.random.default_rng(3), 4, 50)
    expected = np.zeros(logits.shape)
    expected[np.arange(len(logits)), logits.astype(np.float64).argmax(axis=1)] = 1.0
    assert sampling_distribution(logits, 0.0, 0.9).tobytes() == expected.tobytes()


def _draws(rng: np.random.Generator, rows: int) -> list[np.ndarray]:
    edges = np.array([0.0, 0.25, 0.5, 0.75, 0.875, 1.0 - 2.0**-53])
    return [rng.random(rows), rng.choice(edges, rows), np.zeros(rows), np.full(rows, 1.0 - 2.0**-53)]


@pytest.mark.parametrize("width", [1, 3, 801, 5000])
def test_the_draw_is_the_full_running_sums(width: int) -> None:
    rng = np.random.default_rng(200 + width)
    logits = _logits(rng, 10, width)
    rows = [_dyadic_rows(width), rng.random((6, width)) * (rng.random((6, width)) < 0.05),
            np.zeros((2, width))]  # rows of zeros draw the last token
    for temperature, top_p in ((1.0, 0.95), (0.7, 1.0), (1.3, 0.5), (1.0, 1e-12), (0.5, 0.999999)):
        rows.append(_distribution(logits, temperature, top_p)[0])
    for probs in rows:
        for draws in _draws(rng, len(probs)):
            expected = _reference_draw(probs, draws)
            support = np.flatnonzero(probs)
            padded = np.union1d(support, rng.choice(probs.size, probs.size // 10 + 1))  # zeros listed
            for given in (None, support, padded):
                np.testing.assert_array_equal(draw_tokens(probs, draws, given), expected)


def test_rows_of_nan_draw_and_truncate_as_the_definitions_do() -> None:
    logits = np.array([[0.0, 1.0, 2.0, 3.0], [np.nan, 1.0, 2.0, 3.0], [np.inf, 0.0, 1.0, 2.0]])
    for top_p in (0.5, 0.95, 1.0):
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(sampling_distribution(logits, 1.0, top_p),
                                          _reference_distribution(logits, 1.0, top_p))
    probs = np.array([[0.0, 0.5, 0.5, 0.0], [0.0, np.nan, 0.5, 0.0]])
    draws = np.array([0.3, 0.3])
    np.testing.assert_array_equal(draw_tokens(probs, draws), _reference_draw(probs, draws))
