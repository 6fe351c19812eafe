"""Real time in the clinical tests (issue 20, section 3): with event features the T1
distance, the demographics tier and T2's prompts read the events' timestamps and static
rows; without them, the gap tokens and token-name prefixes, exactly as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.clinical.embeddings import code_distance
from audit_core.clinical.event_times import prompt_length, truth_trajectory
from audit_core.clinical.record_layout import Tier, build_layout
from audit_core.clinical.trajectories import Baselines, score_tier
from audit_core.data.events import DAYS_PER_YEAR, EventFeatures
from audit_core.generation import GenerationSchedule
from audit_core.models.onnx_causal_lm import Samples
from audit_core.models.tokenizer_loading import load_tokenizer

ROOT = Path(__file__).resolve().parents[2]
DEMOGRAPHICS = Tier("demographics", None)
WORDS = "AGE_50_59 SEX_M VISIT I10 VISIT GAP_1M E11.9 VISIT GAP_1M K21.00"


def _record():
    tokenizer = load_tokenizer(ROOT / "resources" / "demo" / "model")
    vocabulary = tokenizer.get_vocab(with_added_tokens=True)
    ids = np.asarray(tokenizer.encode(WORDS).ids, dtype=np.int64)
    return vocabulary, ids


def _events(ids: np.ndarray, static: int, days: list[float]) -> EventFeatures:
    """Per token: the first `static` tokens (start token included) without time, then the
    given days (one per remaining token)."""
    time = np.array([np.nan] * static + days, dtype=np.float64)
    assert len(time) == len(ids)
    return EventFeatures(time, 50.0 + np.nan_to_num(time, nan=0.0) / DAYS_PER_YEAR,
                         np.zeros(len(ids), dtype=np.int64))


def test_the_true_continuation_is_timed_by_the_events_when_present():
    vocabulary, ids = _record()
    layout = build_layout(vocabulary)
    prompt = 5  # [BOS] AGE SEX VISIT I10
    codes, gap_times = truth_trajectory(layout, ids, prompt, 20)
    # Without events: the two GAP_1M tokens, one month each.
    assert np.allclose(gap_times, [1 / 12, 2 / 12])
    # With events: E11.9 two years after I10 and K21.00 three, whatever the gap tokens say.
    start = 20_000.0
    days = [start, start, start + 730.5, start + 730.5, start + 730.5,
            start + 1095.75, start + 1095.75, start + 1095.75, start + 1095.75]
    events = _events(ids, 3, days)
    same_codes, event_times = truth_trajectory(layout, ids, prompt, 20, events)
    assert np.array_equal(codes, same_codes)
    assert np.allclose(event_times, [2.0, 3.0])


def test_the_demographics_tier_is_the_static_words_on_event_data():
    vocabulary, ids = _record()
    # A vocabulary whose demographic tokens no prefix names (as MEDS's GENDER//F, MEDS_BIRTH
    # would be under the default AGE_,SEX_): only the events say which words are static.
    layout = build_layout(vocabulary, demographic_prefixes="GENDER//")
    assert prompt_length(layout, ids, DEMOGRAPHICS) == 1  # the start token alone
    events = _events(ids, 3, [1.0] * (len(ids) - 3))
    assert prompt_length(layout, ids, DEMOGRAPHICS, events) == 3  # start, AGE, SEX
    # Numbered tiers count tokens, as before.
    assert prompt_length(layout, ids, Tier("4", 4), events) == prompt_length(layout, ids, Tier("4", 4)) == 5


class _Fixed:
    """A stand-in model that continues every prompt with the same tokens."""

    context_length = 64

    def __init__(self, continuation: np.ndarray):
        self.continuation = continuation

    def sample(self, prompts, steps, *, n, rng, temperature=1.0, top_p=1.0, stop_ids=(), watch=(),
               batch_size=64):
        tokens = np.full((len(prompts), n, steps), -1, dtype=np.int64)
        tokens[:, :, :len(self.continuation)] = self.continuation[:steps]
        return Samples(tokens=tokens, mass=np.zeros((len(prompts), n, steps, 0)))


def test_t1_distance_reads_event_times_when_present_and_gap_tokens_otherwise():
    vocabulary, ids = _record()
    layout = build_layout(vocabulary)
    distance = code_distance(vocabulary, None)
    # I10 one month out, E11.9 two: E11.9 matches the truth's, I10 must move onto K21.00.
    tokenizer = load_tokenizer(ROOT / "resources" / "demo" / "model")
    model = _Fixed(np.asarray(tokenizer.encode("VISIT GAP_1M I10 VISIT GAP_1M E11.9",
                                               add_special_tokens=False).ids, dtype=np.int64))

    def score(events):
        return score_tier(GenerationSchedule(model).generate, layout, distance, [ids], np.array([0]),
                          Tier("4", 4), Baselines([], []), samples=1, horizon=20, temperature=1.0,
                          top_p=1.0, exact_codes=1, seed_of=lambda prompt: (0, len(prompt)),
                          on_chunk=lambda _f: None, events=events)

    # By the gap tokens the true K21.00 is two months out: I10 is moved one month.
    by_gaps = score(None).distance[0]
    # The events put the true codes two and three years out; the generated ones stay timed
    # by their gap tokens: the move of I10 onto K21.00 now spans almost three years.
    start = 20_000.0
    days = [start, start, start + 730.5, start + 730.5, start + 730.5,
            start + 1095.75, start + 1095.75, start + 1095.75, start + 1095.75]
    with_events = score([_events(ids, 3, days)]).distance[0]
    cost = distance.matrix(np.array([vocabulary["I10"]]), np.array([vocabulary["K21.00"]]))[0, 0]
    assert by_gaps == pytest.approx(cost * (1 + 1 / 12) / 2)
    assert with_events == pytest.approx(cost * (1 + 3 - 1 / 12) / 2)
