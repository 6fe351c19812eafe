"""I/O binding (models/io_binding.py), the path a GPU runs, on the CPU provider: the same
tokens, watched masses and per-record scores as `session.run`, bit for bit, for the demo
model (left-padded prompts, shared prompt caches, finished rows leaving the batch) and for
a model with side inputs (KV and plain graphs); and the cache really stays an OrtValue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.generation import GenerationSchedule, Request, Watch
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.passes.token_scores import score_tokens
from audit_core.tools.bench import side_input_lm
from audit_core.work.progress import Progress
from tests.models.test_side_inputs import EVENTS_A, EVENTS_B, RECORD_A, RECORD_B


@pytest.fixture(scope="module")
def demo_pair(demo_dir: Path) -> tuple[OnnxCausalLM, OnnxCausalLM]:
    info = inspect_model(demo_dir / "model")
    return (OnnxCausalLM(info, threads=1, provider="cpu"),
            OnnxCausalLM(info, threads=1, provider="cpu", io_binding=True))


def _same_scores(a, b) -> None:
    for field in ("logprobs", "means", "stds", "tops"):
        for x, y in zip(getattr(a, field), getattr(b, field), strict=True):
            np.testing.assert_array_equal(x, y)


def test_binding_is_off_on_the_cpu_unless_asked(demo_pair) -> None:
    plain, bound = demo_pair
    assert not plain.io_binding and bound.io_binding
    # The decoding loop's cache stays an OrtValue between steps; other callers (canary
    # exposure indexes the presents) still get numpy arrays.
    prompt = np.array([[2, 40, 41, 42]])
    _, kept = bound._run(prompt, np.ones_like(prompt), past=bound._empty_past(1), on_device=True)
    assert all(type(v).__name__ == "OrtValue" for v in kept.values())
    logits, fetched = bound._run(prompt, np.ones_like(prompt), past=bound._empty_past(1))
    reference, expected = plain._run(prompt, np.ones_like(prompt), past=plain._empty_past(1))
    np.testing.assert_array_equal(logits, reference)
    for name, value in expected.items():
        np.testing.assert_array_equal(fetched[name], value)
    # Rows picked on the "device" (a Gather session), a row repeated: host indexing's bits.
    picked = bound._take_past(kept, np.array([0, 0, 0]))
    for name, value in expected.items():
        np.testing.assert_array_equal(picked[name].numpy(), value[[0, 0, 0]])


def test_bound_decoding_samples_what_the_plain_path_samples(demo_pair, monkeypatch) -> None:
    bound = demo_pair[1]
    taken: list[int] = []
    take = bound._take_past
    monkeypatch.setattr(bound, "_take_past", lambda past, index: taken.append(len(index)) or take(past, index))
    rng = np.random.default_rng(5)
    watch = Watch.of([np.arange(10, 60), np.arange(300, 420)])
    # Lengths 9-15 share a left-padded batch; n=4 rows per prompt share its cache; a stop
    # token and uneven horizons make finished rows leave the batch (the cache's `take`).
    asked = [Request(prompt=np.r_[2, rng.integers(5, 800, size=length - 1)], steps=steps, n=4,
                     temperature=1.0, top_p=0.9, stops=(3, 7, 11), watch=watch, seed=(1, i))
             for i, (length, steps) in enumerate([(3, 4), (9, 24), (12, 4), (15, 24)])]
    greedy = [Request(prompt=np.array([2, 40, 41]), steps=12, temperature=0.0, seed=(2, 0))]
    answers = []
    for model in demo_pair:
        schedule = GenerationSchedule(model, batch_rows=12)
        answers.append(schedule.generate(asked + greedy))
    for a, b in zip(*answers, strict=True):
        np.testing.assert_array_equal(a.tokens, b.tokens)
        np.testing.assert_array_equal(a.mass, b.mass)
    assert sum(int((a.tokens >= 0).sum()) for a in answers[0]) > 100
    # Each batch's prompt caches repeated for its rows (12 rows of three prompts, 4 of one,
    # the greedy row), and the 4-step request's 4 rows dropped from the 12: 8 kept.
    assert sorted(taken) == [1, 4, 8, 12]


def test_bound_scoring_gives_the_plain_scores(demo_pair) -> None:
    rng = np.random.default_rng(6)
    # Records past the context (the demo's is 128) are scored in windows.
    records = [rng.integers(1, 800, size=n) for n in (5, 17, 40, 40, 90, 200)]
    plain, bound = (score_tokens(m, records, batch_size=4, pad_id=0, progress=Progress())
                    for m in demo_pair)
    _same_scores(plain, bound)


@pytest.mark.parametrize("kv_cache", [True, False])
def test_side_inputs_are_bound_like_the_other_inputs(tmp_path: Path, kv_cache: bool) -> None:
    folder = side_input_lm.build(tmp_path / "model", kv_cache=kv_cache, declare=True)
    models = [OnnxCausalLM(inspect_model(folder), threads=1, provider="cpu", io_binding=bound)
              for bound in (False, True)]
    records = [RECORD_A, RECORD_B]
    for model in models:
        model.use_records(records, [EVENTS_A, EVENTS_B])
    drawn = [m.sample([RECORD_A[:5], RECORD_B[:3]], 6, n=3, rng=np.random.default_rng(4),
                      events=[None, EVENTS_B]) for m in models]
    np.testing.assert_array_equal(drawn[0].tokens, drawn[1].tokens)
    scored = [score_tokens(m, records, batch_size=2, pad_id=0, progress=Progress(),
                           events=[EVENTS_A, EVENTS_B]) for m in models]
    _same_scores(*scored)
