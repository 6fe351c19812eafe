"""What the clinical probes (T1, T2 and those built on them) read from the probe context:
the model's vocabulary, and a seeded subset of each cohort's records."""

from __future__ import annotations

import numpy as np

from audit_core.models.tokenizer_loading import load_tokenizer
from audit_core.probes.base import ProbeContext


def vocabulary_of(ctx: ProbeContext) -> dict[str, int]:
    """Token -> id of the audited model's tokenizer (read from the model folder when the
    context carries no tokenizer, as in the conformance suite)."""
    tokenizer = ctx.tokenizer if ctx.tokenizer is not None else load_tokenizer(ctx.model.info.folder)
    return tokenizer.get_vocab(with_added_tokens=True)


def sampled_rows(size: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted record indices: all of them, or a random `limit` of them (limit 0: all)."""
    if limit <= 0 or limit >= size:
        return np.arange(size, dtype=np.int64)
    return np.sort(rng.choice(size, size=limit, replace=False)).astype(np.int64)
