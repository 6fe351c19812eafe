"""Event features (MEDS) travel from words to the tokens the model reads."""

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from audit_core.data.cohort import Cohort, DatasetInfo, Role
from audit_core.data.events import EventFeatures, align_to_tokens
from audit_core.models.tokenizer_loading import encode_all, token_events_of


def _tokenizer() -> Tokenizer:
    vocab = {"[UNK]": 0, "[BOS]": 1, "[EOS]": 2, "GENDER//F": 3, "MEDS_BIRTH": 4,
             "DIAGNOSIS//ICD//10//E119": 5, "LAB//51237//UNK": 6}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="[BOS] $A [EOS]",
                                                       special_tokens=[("[BOS]", 1), ("[EOS]", 2)])
    return tok


def _words() -> EventFeatures:
    return EventFeatures(np.array([np.nan, 0.0, 20000.0, 20001.5]),
                         np.array([np.nan, 0.0, 54.8, 54.8]), np.array([0, 0, 1, 1]))


def test_each_token_gets_its_words_values_and_specials_their_neighbours():
    aligned = align_to_tokens(_words(), [None, 0, 1, 2, 3, None])
    assert len(aligned) == 6
    assert np.isnan(aligned.time_days[0]) and np.isnan(aligned.time_days[1])  # BOS before a static row
    assert aligned.time_days[4] == 20001.5 and aligned.time_days[5] == 20001.5  # EOS: the last event
    assert list(aligned.visit) == [0, 0, 0, 1, 1, 1]
    assert list(aligned.static) == [True, True, False, False, False, False]


def test_a_word_split_into_tokens_gives_each_token_its_values():
    aligned = align_to_tokens(_words(), [0, 1, 2, 2, 3])
    assert list(aligned.age_years[2:4]) == [54.8, 54.8]


def test_cohort_events_align_with_encode_all():
    sequence = "GENDER//F MEDS_BIRTH DIAGNOSIS//ICD//10//E119 LAB//51237//UNK"
    cohort = Cohort(role=Role.MEMBERS, ids=("1",), sequences=(sequence,), subgroups={},
                    info=DatasetInfo(role="members", file="x", sha256="", records=1, format="meds",
                                     columns={}), events=(_words(),))
    tok = _tokenizer()
    ids = encode_all(tok, [sequence])[0]
    events = token_events_of(tok, cohort)
    assert events is not None and len(events[0]) == len(ids) == 6
    years = events[0].years_since_start()
    assert years[4] - years[3] == pytest.approx(1.5 / 365.25) and years[5] == years[4] and years[2] == 0.0 and np.isnan(years[1])


def test_a_file_cohort_has_no_events():
    cohort = Cohort(role=Role.MEMBERS, ids=("1",), sequences=("A B",), subgroups={},
                    info=DatasetInfo(role="members", file="x", sha256="", records=1, format="csv",
                                     columns={}))
    assert token_events_of(_tokenizer(), cohort) is None
