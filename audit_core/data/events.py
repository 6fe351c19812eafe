"""What event data (MEDS) knows of each word of a record: its time, the patient's age then,
and its visit; and the same aligned with the token ids the model reads.

A record read from a MEDS dataset is, as for any code file, its words joined by single
spaces (`Cohort.sequences`): static rows first (sex, birth), then events in time order,
one word per event. `EventFeatures` holds one value per word. Files of codes (CSV,
Parquet, JSONL) have none: time there is read from GAP_* tokens (clinical.record_layout).

After tokenization the same values are wanted per token (the side inputs an EHR model
reads, the clinical tests' clocks): `align_to_tokens` maps them through the tokenizer's
word ids. A token that belongs to no word (BOS, EOS, padding a post-processor adds) takes
the values of the nearest word before it, or after it at the start of the record, so a
start token sits at the first event's time and an end token at the last's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# One calendar year in days (the clinical tests read time in years, MEDS in timestamps).
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class EventFeatures:
    """One record's per-word (or, once aligned, per-token) event facts; equal lengths."""

    time_days: np.ndarray  # float64: days since 1970-01-01T00:00 UTC; NaN for static rows
    age_years: np.ndarray  # float64: the patient's age at the event (birth row); NaN if unknown
    visit: np.ndarray  # int64: visit number from 1; 0 for static rows before the first visit

    def __post_init__(self) -> None:
        if not (len(self.time_days) == len(self.age_years) == len(self.visit)):
            raise ValueError("event features of one record must have one value per word each")

    def __len__(self) -> int:
        return len(self.time_days)

    @property
    def static(self) -> np.ndarray:
        """Words with no time: the record's static rows (demographics)."""
        return np.isnan(self.time_days)

    def years_since_start(self) -> np.ndarray:
        """Each word's time in years since the record's first timed word (NaN for static)."""
        timed = self.time_days[~np.isnan(self.time_days)]
        start = timed.min() if len(timed) else 0.0
        return (self.time_days - start) / DAYS_PER_YEAR

    def take(self, index: np.ndarray | slice) -> EventFeatures:
        """The features of the words (tokens) `index` selects: a slice, a mask or positions."""
        return EventFeatures(self.time_days[index], self.age_years[index], self.visit[index])


def align_to_tokens(words: EventFeatures, word_ids: Sequence[int | None]) -> EventFeatures:
    """`words` (one value per word of the record) as one value per token, from the
    tokenizer's `Encoding.word_ids` (None for a token of no word; a word split into
    several tokens gives each of them its values)."""
    n = len(word_ids)
    index = np.full(n, -1, dtype=np.int64)
    for position, word in enumerate(word_ids):
        if word is not None:
            if not 0 <= word < len(words):
                raise ValueError("the tokenizer found more words than the record's events")
            index[position] = word
    known = np.flatnonzero(index >= 0)
    if not len(known):  # a record of special tokens only: nothing to place
        return EventFeatures(np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64))
    # Forward fill from the previous word's token; leading tokens take the first word's.
    last = np.maximum.accumulate(np.where(index >= 0, np.arange(n), -1))
    source = np.where(last >= 0, index[np.maximum(last, 0)], index[known[0]])
    return words.take(source)
