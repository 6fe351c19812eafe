"""The shared scoring pass in chunks of records, each a unit of work a checkpoint keeps.

Chunk boundaries depend only on the number of records and the batch size, never on
whether the run was interrupted, so a resumed run batches (and so computes) exactly as
an uninterrupted one and gives the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit_core.progress import Progress
from audit_core.scoring.token_scores import TokenScores, score_tokens

# Records per chunk, in batches: big enough that length bucketing still packs batches
# well, small enough that a crash loses a few minutes of a long run at most.
CHUNK_BATCHES = 8


def score_chunked(model: Any, token_ids: list[np.ndarray], *, batch_size: int, pad_id: int,
                  progress: Progress, checkpoint: Any, unit: str) -> TokenScores:
    """`score_tokens` over consecutive chunks of records, each saved as `unit/<start>`."""
    from audit_core.checkpoint_units import decode_scores, encode_scores, join_scores, resumable

    size = max(1, batch_size * CHUNK_BATCHES)
    total = max(len(token_ids), 1)
    parts = []
    for start in range(0, len(token_ids), size):
        chunk = token_ids[start:start + size]
        part = progress.slice(start / total, (start + len(chunk)) / total)
        parts.append(resumable(
            checkpoint, f"{unit}/{start}",
            lambda: score_tokens(model, chunk, batch_size=batch_size, pad_id=pad_id, progress=part),
            encode_scores, decode_scores))
        part.advance(1.0, "scoring tokens")
    return join_scores(parts)
