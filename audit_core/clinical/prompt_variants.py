"""One-identifier-at-a-time variants of a prompt, for the perturbation test (T5).

Tonekaboni et al. 2025 (T5) perturb the identifying details of a prompt that triggered
a sensitive prediction and watch the prediction: a sharp peak at the true value marks
a memory of one patient, a smooth curve a population pattern. The variants here:

* age: the age token moved by +-1, 2, 5, 10 years where the vocabulary writes exact
  ages, or by +-1 and 2 bands where it writes bands (the demo's 10-year `AGE_50_59`:
  one band is about 10 years, and a 1-5 year change cannot be expressed at all);
* sex: the sex token swapped;
* time: every gap token of the prompt moved one step shorter or longer on the
  vocabulary's ordered gap scale (`GAP_1W` < `GAP_1M` < ... ; `TIME//...` alike);
* leave one out: each prompt code (not the start, age, sex, visit or gap tokens, nor a MEDS
  row about the person such as MEDS_BIRTH or GENDER//UNK) removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from audit_core.clinical.ages import age_steps, parse_age
from audit_core.clinical.code_reading import VISIT, is_static_row, read_code
from audit_core.data.events import EventFeatures

YEAR_OFFSETS = (-10, -5, -2, -1, 1, 2, 5, 10)
BAND_OFFSETS = (-2, -1, 1, 2)
_SEX = re.compile(r"^(?:SEX|GENDER)[_/]+(F|M|FEMALE|MALE)$", re.IGNORECASE)
_GAP = re.compile(r"^(?:GAP|TIME)[_/]+(\d+)\s*([HDWMY])", re.IGNORECASE)
_DAYS = {"H": 1 / 24, "D": 1, "W": 7, "M": 30.4, "Y": 365.25}
_STRUCTURAL = re.compile(r"^(?:VISIT|\[.*\]|<.*>)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Variant:
    kind: str  # "age", "sex", "time" or "leave_one_out"
    offset: int  # age: years or bands; time: gap steps; sex: 0; leave-one-out: position
    unit: str  # "years", "bands", "steps", "swap" or "position"
    ids: np.ndarray
    removed: int | None = None  # leave-one-out: the token id taken out
    # Event data: the prompt's events with times or ages changed (clinical.event_times), given
    # to the model with the ids; None: the prompt's own events.
    events: EventFeatures | None = None


@dataclass(frozen=True, slots=True)
class VariantVocabulary:
    """What the variants need to know about the tokenizer, computed once."""

    words: list[str]  # id -> token
    ids: dict[str, int]
    gap_scale: list[int]  # gap token ids, shortest first
    sex_swap: dict[int, int]

    @classmethod
    def of(cls, tokenizer) -> VariantVocabulary:
        vocab = tokenizer.get_vocab(with_added_tokens=True)
        words = [""] * (max(vocab.values()) + 1)
        for word, index in vocab.items():
            words[index] = word
        gaps = sorted((_gap_days(w), i) for w, i in vocab.items() if _gap_days(w) is not None)
        sexes: dict[str, int] = {}
        for word, index in vocab.items():
            if (m := _SEX.match(word)) is not None:
                sexes[m.group(1)[0].upper()] = index
        swap = {sexes["F"]: sexes["M"], sexes["M"]: sexes["F"]} if len(sexes) == 2 else {}
        return cls(words, dict(vocab), [i for _, i in gaps], swap)

    def is_identifier(self, token_id: int) -> bool:
        word = self.words[token_id] if 0 <= token_id < len(self.words) else ""
        return (parse_age(word) is not None and word.upper().startswith("AGE")
                or token_id in self.sex_swap or _gap_days(word) is not None
                or _STRUCTURAL.match(word) is not None
                or is_static_row(word) or read_code(word).vocabulary == VISIT)


def _gap_days(word: str) -> float | None:
    match = _GAP.match(word)
    return int(match.group(1)) * _DAYS[match.group(2).upper()] if match else None


def prompt_variants(ids: np.ndarray, vocab: VariantVocabulary,
                    year_offsets: Sequence[int] = YEAR_OFFSETS,
                    band_offsets: Sequence[int] = BAND_OFFSETS) -> list[Variant]:
    """Every variant of `ids` (start token first) that changes the prompt."""
    variants: list[Variant] = []
    words = [vocab.words[i] if 0 <= i < len(vocab.words) else "" for i in ids]
    for position, word in enumerate(words[:8]):  # demographics open a record
        if parse_age(word) is not None and word.upper().startswith("AGE"):
            for step in age_steps(word, vocab.ids, year_offsets, band_offsets):
                changed = ids.copy()
                changed[position] = vocab.ids[step.token]
                variants.append(Variant("age", step.offset, step.unit, changed))
            break
    for position, token in enumerate(ids[:8]):
        if int(token) in vocab.sex_swap:
            changed = ids.copy()
            changed[position] = vocab.sex_swap[int(token)]
            variants.append(Variant("sex", 0, "swap", changed))
            break
    scale = {token: rank for rank, token in enumerate(vocab.gap_scale)}
    gaps = [p for p, token in enumerate(ids) if int(token) in scale]
    for shift in (-1, 1):
        changed = ids.copy()
        for p in gaps:
            rank = min(max(scale[int(ids[p])] + shift, 0), len(vocab.gap_scale) - 1)
            changed[p] = vocab.gap_scale[rank]
        if not np.array_equal(changed, ids):
            variants.append(Variant("time", shift, "steps", changed))
    for position in range(1, len(ids)):
        if vocab.is_identifier(int(ids[position])):
            continue
        variants.append(Variant("leave_one_out", position, "position", np.delete(ids, position),
                                int(ids[position])))
    return variants
