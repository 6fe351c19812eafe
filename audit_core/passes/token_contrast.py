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

# Pseudo-count pulling a token id's baseline toward the mean over all tokens: a token id
# seen once or twice among non-members (a rare surname's piece) would otherwise be its own
# baseline; unseen ids get the overall mean.
PRIOR_TOKENS = 5.0


@dataclass(frozen=True, slots=True)
class TokenBaseline:
    """Mean log-probability per token id among non-members the model scored."""

    sums: dict[int, float]
    counts: dict[int, int]
    overall: float  # mean over every baseline token

    @classmethod
    def build(cls, targets: Sequence[np.ndarray], logprobs: Sequence[np.ndarray]) -> TokenBaseline:
        ids = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets]) if targets else np.zeros(0, np.int64)
        lps = np.concatenate([np.asarray(x, dtype=np.float64) for x in logprobs]) if logprobs else np.zeros(0)
        if not len(ids):
            return cls({}, {}, 0.0)
        unique, inverse = np.unique(ids, return_inverse=True)
        sums = np.bincount(inverse, weights=lps)
        counts = np.bincount(inverse)
        return cls(dict(zip(unique.tolist(), sums.tolist(), strict=True)),
                   dict(zip(unique.tolist(), counts.tolist(), strict=True)), float(lps.mean()))

    def of(self, targets: np.ndarray) -> np.ndarray:
        """The baseline log-probability of each token id in `targets`."""
        out = np.empty(len(targets))
        for i, token in enumerate(np.asarray(targets).tolist()):
            n = self.counts.get(token, 0)
            out[i] = (self.sums.get(token, 0.0) + PRIOR_TOKENS * self.overall) / (n + PRIOR_TOKENS)
        return out


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
