"""Models with side inputs (token type, age, visit...): the values are really fed, found for
records, their prefixes and prompts with codes left out, extended by the rule for
generated tokens, the same through the KV cache and recomputation; and refused clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from audit_core.data.events import EventFeatures
from audit_core.errors import ModelError, PlanError
from audit_core.models.event_lookup import RecordIndex
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.side_inputs import side_values
from audit_core.passes.token_scores import score_tokens
from audit_core.tools.bench import side_input_lm as side_input_model
from audit_core.tools.bench.side_input_lm import INPUTS, TOKEN_TYPES, VOCAB
from audit_core.work.progress import Progress


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("side-models")
    return {"kv": side_input_model.build(root / "kv", kv_cache=True, declare=True),
            "plain": side_input_model.build(root / "plain", kv_cache=False, declare=True),
            "bare": side_input_model.build(root / "bare", kv_cache=False)}


def _model(folder: Path, **kwargs) -> OnnxCausalLM:
    return OnnxCausalLM(inspect_model(folder), **kwargs)


def _ids(*words: str) -> np.ndarray:
    return np.array([VOCAB[w] for w in ("[BOS]", *words)], dtype=np.int64)


def _events(times, ages, visits) -> EventFeatures:
    return EventFeatures(np.asarray(times, dtype=float), np.asarray(ages, dtype=float),
                         np.asarray(visits, dtype=np.int64))


# Two records with their events (BOS takes the first word's values, as align_to_tokens does).
RECORD_A = _ids("GENDER//F", "MEDS_BIRTH", "DIAGNOSIS//ICD//10//E119", "DIAGNOSIS//ICD//10//B20",
                "LAB//51237//UNK", "MEDICATION//A10BA02")
EVENTS_A = _events([np.nan, np.nan, 0.0, 19000.0, 19000.0, 19400.0, 19400.0],
                   [np.nan, np.nan, 0.0, 52.0, 52.0, 53.1, 53.1], [0, 0, 0, 1, 1, 2, 2])
RECORD_B = _ids("GENDER//M", "MEDS_BIRTH", "DIAGNOSIS//ICD//10//I10", "LAB//50912//UNK")
EVENTS_B = _events([np.nan, np.nan, 0.0, 18000.0, 18100.0],
                   [np.nan, np.nan, 0.0, 70.0, 70.3], [0, 0, 0, 1, 2])


def test_every_side_input_moves_the_logits(folders) -> None:
    model = _model(folders["plain"])
    assert model.side_inputs == INPUTS and model.needs_events
    ids, mask = RECORD_A[None, :], np.ones((1, len(RECORD_A)), dtype=np.int64)
    base = model.logits(ids, mask, events=[EVENTS_A])
    older = model.logits(ids, mask, events=[_events(EVENTS_A.time_days, EVENTS_A.age_years + 10,
                                                    EVENTS_A.visit)])
    later_visit = model.logits(ids, mask, events=[_events(EVENTS_A.time_days, EVENTS_A.age_years,
                                                          EVENTS_A.visit + 1)])
    retyped = _model(folders["plain"], token_types={"DIAGNOSIS": 0}).logits(ids, mask, events=[EVENTS_A])
    for changed in (older, later_visit, retyped):
        assert np.abs(changed - base).max() > 0.1
    # Positions before the change stay as they were (the model is causal): BOS..MEDS_BIRTH
    # are not diagnoses, so retyping DIAGNOSIS changes nothing before it.
    np.testing.assert_array_equal(retyped[0, :3], base[0, :3])


def test_values_of_each_source() -> None:
    events = _events([np.nan, 700.0, 1461.0], [np.nan, 40.0, 42.0], [0, 1, 2])
    types = np.array([1, 4, 5])
    assert side_values("type", events, types).tolist() == [1, 4, 5]
    assert side_values("age_years", events, types).tolist() == [0.0, 40.0, 42.0]
    assert side_values("time_weeks", events, types).tolist() == [0.0, 100.0, 1461.0 / 7]
    assert side_values("time_years", events, types).tolist() == [0.0, 700 / 365.25, 4.0]
    assert side_values("visit_segment", _events([1.0] * 5, [1.0] * 5, [0, 1, 2, 3, 4]),
                       None).tolist() == [0, 1, 2, 1, 2]
    assert side_values("position", events, types).tolist() == [0, 1, 2]


def test_token_types_follow_the_words_head(folders) -> None:
    model = _model(folders["plain"])
    table = model._side.types  # the id -> type table the model was given
    assert table[VOCAB["[BOS]"]] == TOKEN_TYPES["special"]
    assert table[VOCAB["DIAGNOSIS//ICD//10//B20"]] == TOKEN_TYPES["DIAGNOSIS"]
    assert table[VOCAB["MEDS_BIRTH"]] == TOKEN_TYPES["MEDS_BIRTH"]
    assert table[VOCAB["ICD10CM/E11.9"]] == TOKEN_TYPES["other"]  # head ICD10CM not in the table


def test_records_prefixes_and_prompts_with_codes_left_out_get_their_own_events() -> None:
    index = RecordIndex([RECORD_A, RECORD_B], [EVENTS_A, EVENTS_B])
    found = index.find(RECORD_A)
    np.testing.assert_array_equal(found.age_years, EVENTS_A.age_years)
    prefix = index.find(RECORD_B[:4])
    np.testing.assert_array_equal(prefix.time_days, EVENTS_B.time_days[:4])
    # The sensitive code (B20, token 4) left out: the tokens after it keep their own times.
    prompt = np.delete(RECORD_A, 4)
    left_out = index.find(prompt)
    np.testing.assert_array_equal(left_out.time_days, np.delete(EVENTS_A.time_days, 4))
    np.testing.assert_array_equal(left_out.visit, [0, 0, 0, 1, 2, 2])
    # Generated tokens after a prefix: same time, age and visit as the token before.
    generated = index.find(np.concatenate([RECORD_B[:4], [VOCAB["LAB//51237//UNK"]] * 2]))
    assert generated.time_days[3:].tolist() == [18000.0] * 3
    assert generated.visit[3:].tolist() == [1, 1, 1]
    # A row no record starts like: nothing found (the rule fills it in).
    assert index.find(np.array([VOCAB["GENDER//F"]])) is None


def test_rows_without_events_are_looked_up_in_the_records(folders) -> None:
    model = _model(folders["plain"])
    model.use_records([RECORD_A, RECORD_B], [EVENTS_A, EVENTS_B])
    ids = np.zeros((2, len(RECORD_A)), dtype=np.int64)
    mask = np.zeros_like(ids)
    ids[0], mask[0] = RECORD_A, 1
    ids[1, :len(RECORD_B)], mask[1, :len(RECORD_B)] = RECORD_B, 1
    found = model.logits(ids, mask)
    given = model.logits(ids, mask, events=[EVENTS_A, EVENTS_B])
    np.testing.assert_array_equal(found[mask.astype(bool)], given[mask.astype(bool)])
    prompt = np.delete(RECORD_A, 4)[None, :]
    np.testing.assert_array_equal(
        model.logits(prompt, np.ones_like(prompt)),
        model.logits(prompt, np.ones_like(prompt), events=[EVENTS_A.take(np.array([0, 1, 2, 3, 5, 6]))]))


def test_generated_tokens_take_the_rule_and_kv_decoding_matches_recomputation(folders) -> None:
    kv, plain = _model(folders["kv"]), _model(folders["plain"])
    assert kv.kv_cache and not plain.kv_cache
    for model in (kv, plain):
        model.use_records([RECORD_A, RECORD_B], [EVENTS_A, EVENTS_B])
    prompts = np.stack([RECORD_A[:5], np.delete(RECORD_A, 4)[:5]])
    np.testing.assert_array_equal(kv.greedy(prompts, 8), plain.greedy(prompts, 8))
    drawn = [m.sample([RECORD_A[:5], RECORD_B[:3]], 6, n=3, rng=np.random.default_rng(4),
                      events=[None, EVENTS_B]) for m in (kv, plain)]
    np.testing.assert_array_equal(drawn[0].tokens, drawn[1].tokens)
    # Greedy decoding equals teacher forcing on the decoded row with the rule's events:
    # the prompt's own events, then the last token's time, age and visit repeated.
    tokens = plain.greedy(RECORD_A[None, :4], 5)[0]
    row = np.concatenate([RECORD_A[:4], tokens])
    rule = EVENTS_A.take(np.minimum(np.arange(len(row)), 3))
    logits = plain.logits(row[None, :-1], np.ones((1, len(row) - 1), dtype=np.int64), events=[rule])
    np.testing.assert_array_equal(logits[0, 3:].argmax(axis=-1), tokens)
    # ... and that rule is not a no-op: the record's own later events decode otherwise.
    other = plain.logits(row[None, :-1], np.ones((1, len(row) - 1), dtype=np.int64),
                         events=[_events([0.0] * 8, [80.0] * 8, [3] * 8)])
    assert np.abs(other - logits).max() > 0.1


def test_scoring_windows_read_their_records_events(folders) -> None:
    model = _model(folders["plain"])
    records = [RECORD_A, RECORD_B]
    given = score_tokens(model, records, batch_size=2, pad_id=0, progress=Progress(),
                         events=[EVENTS_A, EVENTS_B])
    model.use_records(records, [EVENTS_A, EVENTS_B])
    looked_up = score_tokens(model, records, batch_size=2, pad_id=0, progress=Progress())
    for a, b in zip(given.logprobs, looked_up.logprobs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_an_input_nobody_maps_is_refused_with_how_to_map_it(folders, tmp_path) -> None:
    with pytest.raises(ModelError, match=r"ages, visit_orders|token_type_ids, ages") as caught:
        _model(folders["bare"])
    assert "[model.inputs]" in str(caught.value) and '"age_years"' in str(caught.value)
    extra = side_input_model.build(tmp_path / "extra", kv_cache=False, declare=True,
                                   extra_input="bmi")
    with pytest.raises(ModelError, match="bmi"):
        _model(extra)
    # The plan's table maps what side_inputs.json lacks.
    assert _model(folders["bare"], inputs=INPUTS, token_types=TOKEN_TYPES).side_inputs == INPUTS


def test_mapping_refusals(folders, tmp_path) -> None:
    with pytest.raises(PlanError, match="does not take"):
        _model(folders["plain"], inputs={"weights": "age_years"})
    with pytest.raises(PlanError, match="token_types"):
        _model(folders["bare"], inputs=INPUTS)
    broken = tmp_path / "broken"
    shutil.copytree(folders["plain"], broken)
    (broken / "side_inputs.json").write_text('{"inputs": {"ages": "birthday"}}')
    with pytest.raises(ModelError, match="side_inputs.json.*birthday"):
        _model(broken)


def test_the_canary_exposures_own_cache_calls_are_fed_too(folders) -> None:
    """canaries/exposure.py walks the KV cache itself (`_run` with and without a past)."""
    kv = _model(folders["kv"])
    prompt = RECORD_B[None, :3]
    logits, past = kv._run(prompt, np.ones_like(prompt), past=kv._empty_past(1))
    step, _ = kv._run(RECORD_B[None, 3:4], np.ones((1, 4), dtype=np.int64), past=past)
    assert np.isfinite(logits).all() and step.shape == (1, 1, len(VOCAB))
