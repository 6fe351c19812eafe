"""The vectorised float32 statistics of the scoring pass against a float64 reference, with
a vocabulary large enough (and a slice size small enough) to take every code path."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.models.tokenizer_loading import encode_all
from audit_core.passes import token_scores
from audit_core.passes.token_scores import _batch_stats


def _reference(logits: np.ndarray, ids: np.ndarray):
    x = logits[:, :-1].astype(np.float64)
    log_p = x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) - x.max(-1, keepdims=True)
    p = np.exp(log_p)
    mean = (p * log_p).sum(-1)
    std = np.sqrt((p * (log_p - mean[..., None]) ** 2).sum(-1))
    target = np.take_along_axis(log_p, ids[:, 1:, None], -1)[..., 0]
    return target, mean, std


@pytest.mark.parametrize("slice_floats", [4_000_000, 5_000])  # one slice; many slices of one row
def test_batch_statistics_equal_float64_log_softmax(monkeypatch, slice_floats: int) -> None:
    monkeypatch.setattr(token_scores, "_STATS_FLOATS", slice_floats)
    rng = np.random.default_rng(0)
    vocab = 32_000
    logits = (rng.standard_normal((5, 9, vocab)) * 4).astype(np.float32)
    logits[2, 3, 17] = 60.0  # a confident prediction: std near zero must not go negative
    ids = rng.integers(0, vocab, (5, 9))
    ids[0, 1:] = logits[0, :-1].argmax(-1)  # one row whose every token is the model's first choice
    got = _batch_stats(logits, ids)
    for ours, expected in zip(got, _reference(logits, ids)):
        assert ours.shape == (5, 8) and ours.dtype == np.float64
        assert np.abs(ours - expected).max() < 2e-5
    assert np.isfinite(got[2]).all() and (got[2] >= 0).all()
    # The top log p is the largest of the row's log p, and the true token reaches it exactly
    # where it is the model's first choice (EZ-MIA's error positions are the others).
    log_p = logits.astype(np.float64) - np.log(np.exp(logits.astype(np.float64)).sum(-1, keepdims=True))
    assert np.abs(got[3] - log_p[:, :-1].max(-1)).max() < 2e-5
    first_choice = logits[:, :-1].argmax(-1) == ids[:, 1:]
    np.testing.assert_array_equal(got[0] == got[3], first_choice)


def test_encoding_in_chunks_gives_the_ids_of_one_batch(monkeypatch) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    from audit_core.models import tokenizer_loading

    tokenizer = Tokenizer(models.WordLevel(vocab={f"t{i}": i for i in range(50)}, unk_token="t0"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    texts = [" ".join(f"t{(i * 7 + j) % 50}" for j in range(i % 9 + 1)) for i in range(101)]
    whole = encode_all(tokenizer, texts)
    monkeypatch.setattr(tokenizer_loading, "_ENCODE_CHUNK", 10)
    chunked = encode_all(tokenizer, texts)
    assert len(chunked) == 101 and all(np.array_equal(a, b) for a, b in zip(whole, chunked))
