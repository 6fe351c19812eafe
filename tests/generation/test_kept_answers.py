"""The generation step's kept answers are bounded (generation/kept_answers.py): a
probe whose answers would pass the budget is not declared and decodes when it runs, with
the same answers (tests/generation/test_schedule.py: an answer is the same alone or
merged), so what the probes read, and so the audit's results, are the same bits."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from audit_core.generation import GenerationSchedule, Request, kept_answers
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.probes.base import Needs
from audit_core.run import generation_step
from audit_core.work.checkpoints import NoCheckpoint
from audit_core.work.progress import Progress


def _probe(name: str, requests: list[Request]) -> SimpleNamespace:
    return SimpleNamespace(id=name, needs=Needs(generation=True), generation=lambda config, ctx: requests)


def _answers(model, probes, budget: int, monkeypatch) -> tuple[list, GenerationSchedule]:
    monkeypatch.setattr(kept_answers, "KEPT_BUDGET_BYTES", budget)
    schedule = GenerationSchedule(model)
    generation_step.run_generation(schedule, [(p, None) for p in probes], lambda p: None,
                                   NoCheckpoint(), Progress())  # type: ignore[arg-type]
    return [schedule.generate(p.generation(None, None)) for p in probes], schedule


def test_probes_past_the_budget_decode_when_they_run_with_the_same_answers(
        demo_dir: Path, monkeypatch) -> None:
    model = OnnxCausalLM(inspect_model(demo_dir / "model"), threads=1)
    rng = np.random.default_rng(0)
    asked = {name: [Request(prompt=np.r_[2, rng.integers(5, 400, 12)], steps=8, n=2, seed=(k, i))
                    for i in range(6)] for k, name in enumerate(("first", "second", "third"))}
    probes = [_probe(name, requests) for name, requests in asked.items()]
    per_probe = kept_answers.answer_bytes(asked["first"])
    assert per_probe == 6 * 2 * 8 * 8  # ids of 6 requests x 2 continuations x 8 steps

    merged, together = _answers(model, probes, 10**9, monkeypatch)
    bounded, apart = _answers(model, probes, per_probe + 1, monkeypatch)
    assert together.counts.on_the_spot == 0
    assert apart.counts.on_the_spot == 12  # the second and third probes decoded when asked
    for a_probe, b_probe in zip(merged, bounded):
        for a, b in zip(a_probe, b_probe):
            np.testing.assert_array_equal(a.tokens, b.tokens)
            np.testing.assert_array_equal(a.mass, b.mass)


def test_the_answers_held_at_once_are_the_budgets_or_one_probes() -> None:
    budget = kept_answers.KEPT_BUDGET_BYTES
    assert kept_answers.declared_count([budget * 2, 1]) == 1  # the first is always declared
    # 1M demo records: extraction and trajectory declared, T2 (705 MB) and the rest on the spot.
    sizes = [61_000_000, 600_000, 705_000_000, 160_000, 211_000_000, 211_000_000]
    assert kept_answers.declared_count(sizes) == 2
    assert kept_answers.kept_at_once(sizes) == 705_000_000
    assert kept_answers.kept_at_once([1, 2, 3]) == 6  # all fit: all declared together
