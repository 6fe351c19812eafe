"""Template text: the token runs most records share, members and non-members alike.

Clinical notes are written into templates (a header with the clinic's name and phone
number, section titles, "Assessment", "Plan", boilerplate sentences). A model reproduces
them for every patient, seen or not; counting them as extracted or leaked text credits or
blames the model for the template, not for what it learned about patients (issue 17).

A token n-gram is template when it occurs in at least `share` of the members' records AND
of the non-members' records: a span common among members only is exactly what a
memorizing model would reproduce, so it stays patient text. A token of a record is
template when it lies inside such an n-gram. Computed once per call from both cohorts'
token ids, with 64-bit polynomial hashes of the n-grams (numpy, no per-token Python loop
over the cohort); deterministic, since nothing is sampled. Code records seldom share a run
of `n` codes across a third of patients: there `found` is False and every template-excluded
figure equals the raw one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from audit_core.data.cohort import Role

# An odd 64-bit multiplier (the golden-ratio constant): n-gram hashes wrap modulo 2**64, and an
# odd multiplier keeps every power invertible, so two different n-grams collide only by chance
# (about n_grams**2 / 2**64).
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# Below this many records of a cohort, "a share of the records" is one or two records: an
# n-gram two patients happen to share is not a template.
_MIN_RECORDS_SHARING = 3


@dataclass(frozen=True)
class Templates:
    """Per record, which tokens are template; and how much of each cohort that is."""

    ngram: int
    share: float
    masks: Mapping[Role, tuple[np.ndarray, ...]]  # per record, True where the token is template
    n_grams: int  # distinct template n-grams found

    @property
    def found(self) -> bool:
        return self.n_grams > 0

    def mask(self, role: Role, index: int) -> np.ndarray:
        return self.masks[role][index]

    def token_share(self, role: Role) -> float | None:
        """The share of a cohort's tokens that are template (None for an empty cohort)."""
        total = sum(len(m) for m in self.masks[role])
        return sum(int(m.sum()) for m in self.masks[role]) / total if total else None

    def first_content(self, role: Role, index: int) -> int:
        """The position of the record's first token after its leading template run (0 when
        the record does not start with template; its length when it is all template)."""
        mask = self.masks[role][index]
        return int(np.argmin(mask)) if not mask.all() else len(mask)


def find_templates(token_ids: Mapping[Role, Sequence[np.ndarray]], ngram: int, share: float) -> Templates:
    """The template tokens of every record of both cohorts (module docstring)."""
    hashes = {role: [_ngram_hashes(ids, ngram) for ids in token_ids[role]] for role in Role}
    common = None
    for role in Role:
        records = len(hashes[role])
        needed = max(_MIN_RECORDS_SHARING, math.ceil(share * records))
        per_record = [np.unique(h) for h in hashes[role]]
        values, counts = np.unique(np.concatenate(per_record) if per_record else np.empty(0, np.uint64),
                                   return_counts=True)
        frequent = values[counts >= needed] if records >= needed else values[:0]
        common = frequent if common is None else np.intersect1d(common, frequent, assume_unique=True)
    template = common if common is not None else np.empty(0, np.uint64)
    masks = {role: tuple(_spread(np.isin(h, template), len(ids), ngram)
                         for h, ids in zip(hashes[role], token_ids[role])) for role in Role}
    return Templates(ngram=ngram, share=share, masks=masks, n_grams=len(template))


def _ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """One 64-bit hash per n-gram start (empty when the record is shorter than n)."""
    ids = np.asarray(ids)
    if len(ids) < n:
        return np.empty(0, np.uint64)
    # +1 so that token 0 still moves the hash; the powers weight each position differently.
    windows = sliding_window_view(ids.astype(np.uint64) + np.uint64(1), n)
    powers = _MULTIPLIER ** np.arange(n - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return (windows * powers).sum(axis=1, dtype=np.uint64)


def _spread(starts: np.ndarray, length: int, n: int) -> np.ndarray:
    """Tokens covered by the template n-grams starting at `starts`."""
    if not starts.any():
        return np.zeros(length, dtype=bool)
    covered = np.convolve(starts.astype(np.int64), np.ones(n, dtype=np.int64))[:length]
    return covered > 0
