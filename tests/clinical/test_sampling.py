"""`OnnxCausalLM.sample`: temperature 0 is greedy decoding, the seed fixes the draws, stop
tokens end a continuation, and nucleus truncation and watched masses behave as stated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.models.batch_decoding import sampling_distribution
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM, strip_continuation
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer


@pytest.fixture(scope="module")
def demo(demo_dir: Path):
    model = OnnxCausalLM(inspect_model(demo_dir / "model"), threads=1)
    tokenizer = load_tokenizer(demo_dir / "model")
    import pandas as pd

    codes = pd.read_csv(demo_dir / "members.csv", dtype=str).codes.head(6).tolist()
    ids = encode_all(tokenizer, codes)
    return model, tokenizer, ids


def test_temperature_zero_and_near_zero_equal_greedy(demo) -> None:
    model, _, ids = demo
    prompts = np.stack([x[:12] for x in ids])
    greedy = model.greedy(prompts, 10)
    for temperature in (0.0, 1e-4):
        drawn = model.sample(prompts, 10, n=3, rng=np.random.default_rng(1), temperature=temperature)
        for s in range(3):
            np.testing.assert_array_equal(drawn.tokens[:, s], greedy)
    tiny_nucleus = model.sample(prompts, 10, n=2, rng=np.random.default_rng(2), top_p=1e-9)
    np.testing.assert_array_equal(tiny_nucleus.tokens[:, 1], greedy)


def test_same_seed_same_samples_and_another_seed_differs(demo) -> None:
    model, _, ids = demo
    prompts = [x[:n] for x, n in zip(ids, (5, 9, 5, 12, 9, 1))]  # ragged lengths
    first = model.sample(prompts, 12, n=4, rng=np.random.default_rng(7), top_p=0.95)
    again = model.sample(prompts, 12, n=4, rng=np.random.default_rng(7), top_p=0.95)
    other = model.sample(prompts, 12, n=4, rng=np.random.default_rng(8), top_p=0.95)
    np.testing.assert_array_equal(first.tokens, again.tokens)
    assert not np.array_equal(first.tokens, other.tokens)
    assert first.tokens.shape == (6, 4, 12)
    # At temperature 1 the n samples of one prompt are not all the same continuation.
    assert any(len({tuple(s) for s in first.tokens[b]}) > 1 for b in range(6))


def test_stop_tokens_end_a_continuation(demo) -> None:
    model, tokenizer, ids = demo
    visit = tokenizer.token_to_id("VISIT")
    drawn = model.sample([ids[0][:6]], 20, n=16, rng=np.random.default_rng(3), stop_ids=[visit])
    stopped = 0
    for row in drawn.tokens[0]:
        kept = strip_continuation(row)
        hits = np.flatnonzero(kept == visit)
        if len(hits):
            stopped += 1
            assert hits[0] == len(kept) - 1 and (row[len(kept):] == -1).all()
    assert stopped > 0  # VISIT is among the most frequent tokens: some sample emits it


def test_watched_mass_is_the_sampling_probability_of_the_set(demo) -> None:
    model, tokenizer, ids = demo
    everything = np.arange(model.vocab_size)
    visit = np.array([tokenizer.token_to_id("VISIT")])
    drawn = model.sample([ids[1][:8]], 6, n=2, rng=np.random.default_rng(4), top_p=0.9,
                         watch=[everything, visit])
    np.testing.assert_allclose(drawn.mass[..., 0], 1.0, atol=1e-9)
    assert ((drawn.mass[..., 1] >= 0) & (drawn.mass[..., 1] <= 1)).all()


def test_nucleus_keeps_the_smallest_set_reaching_top_p() -> None:
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    kept = sampling_distribution(logits, 1.0, 0.79)
    np.testing.assert_allclose(kept, [[0.5 / 0.8, 0.3 / 0.8, 0.0, 0.0]])
    np.testing.assert_allclose(sampling_distribution(logits, 1.0, 0.81)[0, 2], 0.15 / 0.95)


def test_nucleus_found_in_the_head_equals_the_full_sort() -> None:
    """The cutoff looked for among the 64 likeliest tokens (and a full sort only where the
    nucleus is wider) keeps exactly the tokens a full sort keeps, peaked rows and flat ones."""
    rng = np.random.default_rng(11)
    logits = np.concatenate([rng.normal(0, 6, (40, 801)), rng.normal(0, 0.1, (10, 801)),
                             np.zeros((2, 801))])
    for top_p in (0.5, 0.9, 0.95, 0.999):
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        ranked = -np.sort(-probs, axis=1)
        last = ((np.cumsum(ranked, axis=1) - ranked) < top_p).sum(axis=1) - 1
        cutoff = ranked[np.arange(len(ranked)), last]
        expected = np.where(probs >= cutoff[:, None], probs, 0.0)
        expected /= expected.sum(axis=1, keepdims=True)
        np.testing.assert_array_equal(sampling_distribution(logits, 1.0, top_p), expected)


def test_refuses_a_continuation_past_the_context(demo) -> None:
    model, _, ids = demo
    with pytest.raises(ValueError, match="context"):
        model.sample([ids[0][:10]], model.context_length, n=1, rng=np.random.default_rng(0))


@pytest.mark.slow
def test_plain_export_samples_like_the_kv_export(tiny_positive, tiny_positive_plain) -> None:
    kv = OnnxCausalLM(inspect_model(tiny_positive.export.out_dir), threads=1)
    plain = OnnxCausalLM(inspect_model(tiny_positive_plain.out_dir), threads=1)
    prompts = [np.array([2, 7, 12, 14]), np.array([2, 9, 13])]
    a = kv.sample(prompts, 8, n=3, rng=np.random.default_rng(5), top_p=0.95, stop_ids=[3])
    b = plain.sample(prompts, 8, n=3, rng=np.random.default_rng(5), top_p=0.95, stop_ids=[3])
    # float differences between the graphs could flip a draw sitting on a boundary; none here
    np.testing.assert_array_equal(a.tokens, b.tokens)
