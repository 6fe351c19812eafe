"""Per-token contrast and memorized spans: which tokens a model scores far above a baseline.

A token's contrast is log p(token | its prefix) under the audited model minus a baseline's
log-probability of the same token: the reference model's at the same position when the plan
has one (Carlini et al. 2021's reference comparison, per token), else what the audited model
gives that token id on average in non-members it did not see (`TokenBaseline`). A model that
never saw the members gives a member's tokens what it gives any outsider's, so their contrast
is distributed like a held-out non-member's; a memorized passage stands out as a run of
tokens far above it. A span is such a run (`find_spans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Pseudo-count pulling a token id's baseline toward the mean of rare tokens: a token id seen
# once or twice among non-members would otherwise be its own baseline.
PRIOR_TOKENS = 1.0


@dataclass(frozen=True, slots=True)
class TokenBaseline:
    """Mean log-probability per token id among non-members the model scored."""

    sums: dict[int, float]
    counts: dict[int, int]
    # What an id seen rarely or never is expected to get: the mean over the baseline's tokens
    # whose id occurs there once (a record's own MRN, phone number or rare surname: what a
    # model that did not see the record gives such a token, as Good-Turing estimates unseen
    # events from those seen once). The mean over all tokens would be far too generous: it is
    # dominated by template words the model predicts almost surely.
    rare: float

    @classmethod
    def build(cls, targets: Sequence[np.ndarray], logprobs: Sequence[np.ndarray]) -> TokenBaseline:
        ids = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets]) if targets else np.zeros(0, np.int64)
        lps = np.concatenate([np.asarray(x, dtype=np.float64) for x in logprobs]) if logprobs else np.zeros(0)
        if not len(ids):
            return cls({}, {}, 0.0)
        unique, inverse = np.unique(ids, return_inverse=True)
        sums = np.bincount(inverse, weights=lps)
        counts = np.bincount(inverse)
        once = counts[inverse] == 1
        rare = float(lps[once].mean()) if once.any() else float(lps.mean())
        return cls(dict(zip(unique.tolist(), sums.tolist(), strict=True)),
                   dict(zip(unique.tolist(), counts.tolist(), strict=True)), rare)

    def held_out(self, targets: Sequence[np.ndarray], logprobs: Sequence[np.ndarray]) -> np.ndarray:
        """The contrast of each of the baseline's own tokens against the table without that
        token (leave-one-out): what a record the model did not see shows, token by token."""
        out = []
        for ids, lps in zip(targets, logprobs, strict=True):
            for token, lp in zip(np.asarray(ids).tolist(), np.asarray(lps).tolist(), strict=True):
                n = self.counts.get(token, 0)
                rest = (self.sums.get(token, 0.0) - lp + PRIOR_TOKENS * self.rare) / (n - 1 + PRIOR_TOKENS)
                out.append(lp - rest)
        return np.asarray(out, dtype=np.float64)

    def of(self, targets: np.ndarray) -> np.ndarray:
        """The baseline log-probability of each token id in `targets`."""
        out = np.empty(len(targets))
        for i, token in enumerate(np.asarray(targets).tolist()):
            n = self.counts.get(token, 0)
            out[i] = (self.sums.get(token, 0.0) + PRIOR_TOKENS * self.rare) / (n + PRIOR_TOKENS)
        return out


def calibrated_threshold(null: np.ndarray, floor: float, false_rate: float) -> float:
    """The contrast a token must reach: at least `floor`, and above all but `false_rate` of
    the held-out non-members' tokens (`null`), so that a model that memorized nothing
    highlights about that share of any record's tokens, and spans (runs of them) rarely."""
    null = np.asarray(null, dtype=np.float64)
    null = null[np.isfinite(null)]
    if not len(null):
        return float(floor)
    return float(max(floor, np.quantile(null, 1.0 - false_rate)))


def find_spans(contrast: np.ndarray, min_contrast: float, min_tokens: int,
               max_gap: int) -> list[tuple[int, int]]:
    """[start, end) index ranges of `contrast` where it is at least `min_contrast`, runs
    separated by at most `max_gap` other tokens merged, runs of fewer than `min_tokens`
    memorized tokens dropped."""
    hits = np.flatnonzero(np.asarray(contrast) >= min_contrast)
    spans: list[tuple[int, int, int]] = []  # start, end, memorized tokens inside
    for i in hits.tolist():
        if spans and i - spans[-1][1] <= max_gap:
            start, _, count = spans[-1]
            spans[-1] = (start, i + 1, count + 1)
        else:
            spans.append((i, i + 1, 1))
    return [(s, e) for s, e, count in spans if count >= min_tokens]
