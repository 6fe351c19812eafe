"""The shared scoring pass against a model whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.passes.token_scores import plan_windows, score_tokens
from audit_core.work.progress import Progress


class BigramModel:
    """A fake LM whose next-token logits depend on the previous token only.

    Windowed scoring must then equal whole-sequence scoring exactly, and the expected
    log-probabilities can be computed by hand from the table.
    """

    def __init__(self, vocab: int = 11, context: int = 8, seed: int = 0) -> None:
        self.table = np.random.default_rng(seed).normal(0, 2, (vocab, vocab)).astype(np.float32)
        self.vocab_size = vocab
        self.context_length = context
        self.calls = 0

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        assert ids.shape[1] <= self.context_length, "a window longer than the context was sent"
        self.calls += 1
        return self.table[ids]

    def expected(self, ids: np.ndarray) -> np.ndarray:
        logp = self.table - np.log(np.exp(self.table.astype(np.float64)).sum(axis=1, keepdims=True))
        return np.array([logp[ids[t - 1], ids[t]] for t in range(1, len(ids))])


@pytest.mark.parametrize("length, context", [(2, 8), (8, 8), (9, 8), (30, 8), (100, 7), (5, 2)])
def test_windows_cover_every_position_once_with_enough_history(length: int, context: int) -> None:
    windows = plan_windows(length, context)
    scored = [p for start, end, first in windows for p in range(first, end)]
    assert scored == list(range(1, length))
    for start, end, first in windows:
        assert end - start <= context
        if start > 0:
            assert first - start >= context // 2 - 1


def test_scores_equal_the_hand_computed_log_probabilities_including_windows() -> None:
    model = BigramModel()
    rng = np.random.default_rng(1)
    records = [rng.integers(0, 11, n) for n in (2, 5, 8, 9, 23, 40)]
    result = score_tokens(model, records, batch_size=3, pad_id=0, progress=Progress())
    for ids, logprobs in zip(records, result.logprobs):
        assert np.allclose(logprobs, model.expected(ids), atol=1e-5)
    assert list(result.windows) == [len(plan_windows(len(r), 8)) for r in records]
    assert result.tokens == sum(len(r) for r in records)


def test_mean_and_spread_are_those_of_the_predicted_distribution() -> None:
    model = BigramModel(vocab=5, context=16)
    ids = np.array([0, 1, 2, 3, 4, 0])
    result = score_tokens(model, [ids], batch_size=4, pad_id=0, progress=Progress())
    for t in range(1, len(ids)):
        row = model.table[ids[t - 1]].astype(np.float64)
        logp = row - np.log(np.exp(row).sum())
        p = np.exp(logp)
        assert result.means[0][t - 1] == pytest.approx((p * logp).sum(), abs=1e-6)
        assert result.stds[0][t - 1] == pytest.approx(np.sqrt((p * (logp - (p * logp).sum()) ** 2).sum()), abs=1e-6)


def test_progress_is_monotonic_and_reaches_the_end() -> None:
    seen: list[float] = []
    model = BigramModel()
    records = [np.arange(10) % 11 for _ in range(20)]
    score_tokens(model, records, batch_size=4, pad_id=0, progress=Progress(lambda f, m: seen.append(f)))
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_the_streamed_pass_holds_one_chunk_of_token_scores_and_keeps_what_reducers_return() -> None:
    """Peak memory must not grow with the token count: reducers see one chunk at a time
    (never the cohort), the reference model scores the same chunk, and what is kept is
    their per-record values, equal to reducing the whole unchunked pass."""
    from audit_core.models.packed_ids import PackedIds
    from audit_core.passes.chunked_scoring import CHUNK_BATCHES, mean_logprobs, score_streamed
    from audit_core.work.checkpoints import NoCheckpoint

    model, reference = BigramModel(seed=0), BigramModel(seed=1)
    rng = np.random.default_rng(2)
    records = PackedIds.pack(rng.integers(0, 11, n) for n in rng.integers(2, 30, 100))
    seen = []

    def gap(target, other):
        seen.append(len(target.logprobs))
        assert other is not None and len(other.logprobs) == len(target.logprobs)
        return mean_logprobs(target) - mean_logprobs(other)

    result = score_streamed([model, reference], records, {"gap": gap, "loss": lambda t, r: mean_logprobs(t)},
                            batch_size=2, pad_id=0, progress=Progress(), checkpoint=NoCheckpoint(),
                            unit="members")
    assert max(seen) == 2 * CHUNK_BATCHES and sum(seen) == len(records)
    whole = [score_tokens(m, list(records), batch_size=2, pad_id=0, progress=Progress())
             for m in (model, reference)]
    np.testing.assert_allclose(result.reduced["loss"], mean_logprobs(whole[0]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.reduced["gap"], mean_logprobs(whole[0]) - mean_logprobs(whole[1]),
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.windows, whole[0].windows)


def test_packed_ids_index_slice_and_iterate_like_the_list_they_replace() -> None:
    from audit_core.models.packed_ids import PackedIds

    rows = [[5, 1, 2], [7], [], [3, 3]]
    packed = PackedIds.pack(rows)
    assert len(packed) == 4 and [r.tolist() for r in packed] == rows
    assert packed[-1].tolist() == [3, 3] and packed[2].tolist() == []
    assert [r.tolist() for r in packed[1:3]] == rows[1:3] and [r.tolist() for r in packed[::2]] == rows[::2]
    assert [r.tolist() for r in packed + packed[:1]] == rows + rows[:1]
    joined = PackedIds.join([packed[:1], packed[1:]])
    assert [r.tolist() for r in joined] == rows and joined.nbytes < 200
    with pytest.raises(IndexError):
        packed[4]
    with pytest.raises(ValueError):  # views are read-only: a probe cannot alter the cohort
        packed[0][0] = 9
