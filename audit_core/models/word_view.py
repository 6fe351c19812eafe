"""The tokenizer's view of a cohort's first records, word by word, so that a mismatch
between how the data becomes words (a MEDS plan's [data.tokens]) and the vocabulary the
model was trained on is seen before the run: `mnemoscope inspect MODEL --data PLAN` and
the desktop Data step show it.

What it returns is patient data (the records' words): it is for the screen of the
workstation the audit runs on, like the desktop's preview, and is never logged nor
written to the audit's outputs. `counts_only` keeps to numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tokenizers import Tokenizer

from audit_core.data.cohort import Cohort
from audit_core.models.tokenizer_loading import unknown_token_id

SHOWN_RECORDS = 3
SHOWN_WORDS = 40  # per record; the rest counted


@dataclass(frozen=True, slots=True)
class WordTokens:
    word: str
    tokens: tuple[str, ...]
    unknown: bool  # the tokenizer maps (part of) the word to its unknown token


@dataclass(frozen=True, slots=True)
class RecordView:
    number: int  # 1-based position in its cohort (never the record's id)
    words: tuple[WordTokens, ...]  # the first SHOWN_WORDS
    word_count: int
    token_count: int  # with the special tokens the tokenizer adds
    unknown_words: int  # over the whole record


@dataclass(frozen=True, slots=True)
class CohortView:
    records: tuple[RecordView, ...]
    record_count: int
    unknown_words: int  # over every record of the cohort
    word_count: int

    def as_dict(self, counts_only: bool) -> dict[str, Any]:
        return {"records": self.record_count, "words": self.word_count,
                "unknown_words": self.unknown_words,
                "first_records": [{"number": r.number, "words": r.word_count, "tokens": r.token_count,
                                   "unknown_words": r.unknown_words,
                                   **({} if counts_only else {"view": [
                                       {"word": w.word, "tokens": list(w.tokens), "unknown": w.unknown}
                                       for w in r.words]})}
                                  for r in self.records]}


def record_view(tokenizer: Tokenizer, sequence: str, number: int, unk: int | None) -> RecordView:
    encoding = tokenizer.encode(sequence, add_special_tokens=True)
    words = sequence.split()
    pieces: list[list[str]] = [[] for _ in words]
    unknown = [False] * len(words)
    for token, token_id, word in zip(encoding.tokens, encoding.ids, encoding.word_ids, strict=True):
        if word is None or not 0 <= word < len(words):
            continue
        pieces[word].append(token)
        if unk is not None and token_id == unk:
            unknown[word] = True
    shown = tuple(WordTokens(w, tuple(p), u) for w, p, u in
                  zip(words[:SHOWN_WORDS], pieces[:SHOWN_WORDS], unknown[:SHOWN_WORDS], strict=True))
    return RecordView(number=number, words=shown, word_count=len(words), token_count=len(encoding.ids),
                      unknown_words=sum(unknown))


def cohort_view(tokenizer: Tokenizer, cohort: Cohort, shown: int = SHOWN_RECORDS) -> CohortView:
    """The first `shown` records word by word, and the unknown words over the cohort."""
    unk = unknown_token_id(tokenizer)
    records = tuple(record_view(tokenizer, s, i + 1, unk) for i, s in enumerate(cohort.sequences[:shown]))
    return CohortView(records=records, record_count=len(cohort),
                      unknown_words=_unknown_words(tokenizer, cohort.sequences, unk),
                      word_count=sum(len(s.split()) for s in cohort.sequences))


def _unknown_words(tokenizer: Tokenizer, sequences: Sequence[str], unk: int | None) -> int:
    """Distinct-position count of words with an unknown token, over every record. A word
    the tokenizer splits into pieces of which one is unknown counts once."""
    if unk is None:
        return 0
    total = 0
    for start in range(0, len(sequences), 2048):
        chunk = list(sequences[start:start + 2048])
        for encoding in tokenizer.encode_batch(chunk, add_special_tokens=True):
            total += len({w for w, i in zip(encoding.word_ids, encoding.ids, strict=True)
                          if w is not None and i == unk})
    return total


