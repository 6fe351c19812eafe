"""The generation schedule: a request's answer is the same alone or merged with any other
requests (prompt lengths, batches, order), its draws come from its own seed, a prompt
asked for twice is run once, and what a probe did not declare is decoded when asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.generation import GenerationSchedule, Request, Watch
from audit_core.generation.schedule import padded_length
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.work.progress import Progress


@pytest.fixture(scope="module")
def demo_model(demo_dir: Path) -> OnnxCausalLM:
    return OnnxCausalLM(inspect_model(demo_dir / "model"), threads=1)


def _requests(lengths, *, steps=10, n=3, watch=None, temperature=1.0, seed=0) -> list[Request]:
    rng = np.random.default_rng(seed)
    return [Request(prompt=np.r_[2, rng.integers(5, 800, size=length - 1)], steps=steps, n=n,
                    temperature=temperature, top_p=0.95, stops=(3,), watch=watch, seed=(seed, i))
            for i, length in enumerate(lengths)]


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.tokens, b.tokens)
    np.testing.assert_array_equal(a.mass, b.mass)


def test_an_answer_is_the_same_alone_merged_and_in_any_batch(demo_model) -> None:
    watch = Watch.of([np.arange(10, 60), np.arange(300, 420)])
    asked = _requests([3, 9, 10, 14, 15, 15, 30, 31], watch=watch)
    merged = GenerationSchedule(demo_model, batch_rows=7)  # batches cut through requests' rows
    merged.declare("probe", reversed(asked))
    merged.run(Progress())
    answers = merged.generate(asked)
    assert merged.counts.on_the_spot == 0  # every answer came from the merged run
    for request, answer in zip(asked, answers):
        _same(GenerationSchedule(demo_model).generate([request])[0], answer)
    # Prompts of 9 to 16 tokens are left-padded to 16 and share batches; 3 and 30 do not.
    assert {padded_length(demo_model, r) for r in asked} == {8, 16, 32}
    assert answers[0].mass.shape == (3, 10, 2)


def test_draws_come_from_the_request_seed_and_a_shared_prompt_runs_once(demo_model) -> None:
    prompt = np.array([2, 40, 41, 42, 43])
    one, other = (Request(prompt=prompt, steps=12, n=4, seed=(7, s)) for s in (1, 2))
    schedule = GenerationSchedule(demo_model)
    a, b = schedule.generate([one, other])
    assert schedule.counts.prefills == 1  # one prompt, its cache repeated for both requests' rows
    assert not np.array_equal(a.tokens, b.tokens)
    _same(a, GenerationSchedule(demo_model).generate([Request(prompt=prompt, steps=12, n=4, seed=(7, 1))])[0])


def test_stops_fill_and_greedy(demo_model) -> None:
    greedy = _requests([6, 11], temperature=0.0, n=5, steps=8)
    answers = GenerationSchedule(demo_model).generate(greedy)
    assert all(a.tokens.shape == (1, 8) for a in answers)  # greedy: one continuation
    expected = demo_model.greedy(greedy[0].prompt[None, :], 8)
    np.testing.assert_array_equal(answers[0].tokens, expected)
    # A stop token is kept and followed by -1 only; a continuation never resumes after it.
    sampled = GenerationSchedule(demo_model).generate(_requests([4] * 6, steps=30, n=8, seed=3))
    for answer in sampled:
        for row in answer.tokens:
            stopped = np.flatnonzero(row == 3)
            if len(stopped):
                assert (row[stopped[0] + 1:] == -1).all()
            assert list(answer.continuations()[0]) == [t for t in answer.tokens[0] if t >= 0]


def test_the_plain_export_gives_the_kv_exports_answers(tiny_positive, tiny_positive_plain) -> None:
    """A graph without a KV cache recomputes each step and cannot left-pad (exact lengths
    only); the tokens it samples are the KV graph's."""
    kv = OnnxCausalLM(inspect_model(tiny_positive.export.out_dir), threads=1)
    plain = OnnxCausalLM(inspect_model(tiny_positive_plain.out_dir), threads=1)
    assert kv.left_padding and not plain.left_padding
    asked = [Request(prompt=p, steps=6, n=2, top_p=0.95, stops=(3,), seed=(5, i))
             for i, p in enumerate([np.array([2, 7, 12, 14]), np.array([2, 9, 13])])]
    for a, b in zip(GenerationSchedule(kv).generate(asked), GenerationSchedule(plain).generate(asked)):
        np.testing.assert_array_equal(a.tokens, b.tokens)


def test_a_request_not_declared_is_decoded_when_asked(demo_model) -> None:
    declared, late = _requests([5, 6]), _requests([7], seed=9)
    schedule = GenerationSchedule(demo_model)
    schedule.declare("probe", declared)
    schedule.run(Progress())
    both = schedule.generate([*declared, *late])
    assert schedule.counts.on_the_spot == 1
    _same(both[2], GenerationSchedule(demo_model).generate(late)[0])
    assert schedule.counts.as_dict()["tokens"] == 3 * 3 * 10
