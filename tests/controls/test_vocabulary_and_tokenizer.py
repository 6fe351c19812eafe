"""The code language: every token is well-formed, every ICD token a real leaf code, and
the saved tokenizer encodes exactly as the model was trained."""

from __future__ import annotations

import warnings

import pytest
from tokenizers import Tokenizer

from audit_core.tools.controls.cohort import generate_cohort
from audit_core.tools.controls.tokenizer import build_tokenizer, save_tokenizer
from audit_core.tools.controls.vocabulary import (
    SENSITIVE_CATEGORIES,
    SPECIAL_TOKENS,
    build_vocabulary,
    is_icd_code,
    sensitive_categories_of,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as icd


@pytest.fixture(scope="module")
def vocabulary():
    return build_vocabulary()


def test_vocabulary_size_and_layout(vocabulary) -> None:
    assert 500 <= len(vocabulary.tokens) <= 1200
    assert vocabulary.tokens[:4] == ("[PAD]", "[UNK]", "[BOS]", "[EOS]") == SPECIAL_TOKENS
    assert len(set(vocabulary.tokens)) == len(vocabulary.tokens)
    for token in ("AGE_18_29", "AGE_90_PLUS", "SEX_F", "SEX_M", "VISIT", "GAP_1W", "GAP_2Y_PLUS",
                  "LAB_HBA1C_HIGH", "LAB_CD4_LOW", "RX_METFORMIN", "RX_BICTEGRAVIR",
                  "RX_BUPRENORPHINE", "E11.9", "B20", "I10"):
        assert token in vocabulary.tokens
    assert len(vocabulary.background_codes) >= 300  # a long tail of rare codes


def test_every_icd_token_is_a_real_leaf_code(vocabulary) -> None:
    icd_tokens = [t for t in vocabulary.tokens if is_icd_code(t)]
    assert sorted(icd_tokens) == sorted(vocabulary.icd_codes)
    for code in icd_tokens:
        assert icd.is_valid_item(code) and icd.is_leaf(code), code
        assert "." in code or len(code) == 3, code  # written with the dot, as billed


def test_non_icd_tokens_are_not_mistaken_for_codes(vocabulary) -> None:
    others = [t for t in vocabulary.tokens if t not in set(vocabulary.icd_codes)]
    assert not [t for t in others if is_icd_code(t)]
    assert not sensitive_categories_of("RX_OXYCODONE")  # "O" is a code prefix, not a token one


def test_sensitive_categories_cover_cluster_codes_not_background(vocabulary) -> None:
    assert set(SENSITIVE_CATEGORIES) == {"hiv_sti", "substance_use", "mental_health",
                                         "reproductive_health"}
    for name in SENSITIVE_CATEGORIES:
        assert any(name in sensitive_categories_of(c) for c in vocabulary.cluster_codes), name
    assert not [c for c in vocabulary.background_codes if sensitive_categories_of(c)]
    assert sensitive_categories_of("B20") == ("hiv_sti",)
    assert sensitive_categories_of("F11.20") == ("substance_use",)
    assert sensitive_categories_of("O80") == ("reproductive_health",)


def test_tokenizer_round_trips_records(tmp_path) -> None:
    tokenizer = build_tokenizer()
    records = generate_cohort(50, seed=3, id_prefix="T")
    saved = Tokenizer.from_file(str(save_tokenizer(tokenizer, tmp_path)))
    for record in records:
        encoding = saved.encode(record.codes)
        assert encoding.tokens[0] == "[BOS]" and encoding.tokens[-1] == "[EOS]"
        assert encoding.tokens[1:-1] == record.codes.split()
        assert 1 not in encoding.ids  # no [UNK]: the cohort speaks only the vocabulary
        assert saved.decode(encoding.ids) == record.codes
        assert encoding.ids == tokenizer.encode(record.codes).ids


def test_tokenizer_pads_right_and_maps_unknown_tokens() -> None:
    tokenizer = build_tokenizer()
    short, long = tokenizer.encode_batch(["AGE_30_39 SEX_M", "AGE_30_39 SEX_M VISIT I10 NOT_A_CODE"])
    assert long.tokens == ["[BOS]", "AGE_30_39", "SEX_M", "VISIT", "I10", "[UNK]", "[EOS]"]
    assert short.ids[-3:] == [0, 0, 0] and short.attention_mask == [1, 1, 1, 1, 0, 0, 0]
    assert tokenizer.get_vocab_size() == len(build_vocabulary().tokens)
