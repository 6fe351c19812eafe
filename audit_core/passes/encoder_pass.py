"""The encoder shared pass in chunks of records, each chunk a unit of work the checkpoint keeps.

Masked-LM pseudo-likelihoods cost one forward pass per token of every record (Salazar et
al. 2020): hours for a real encoder on long notes. So both passes run chunk by chunk, and
each finished chunk is saved (`embeddings/<role>/<start>`, `pseudo/<role>/<start>`, the
start being the chunk's first record): a crash loses one chunk at most.

Chunk boundaries are a function of the records' lengths and the batch size only, never of
whether the run was interrupted, so a resumed run batches (and so computes) exactly the
bits an uninterrupted one does. Embedding chunks hold whole batches, so they batch as one
unchunked pass would; pseudo-likelihood chunks hold whole records and about a fixed number
of masked copies, since the copies (not the records) are what costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from audit_core.work.progress import Progress
from audit_core.work.units import decode_array, encode_array, resumable

# Batches per chunk: a crash loses at most a few minutes of a long pass, and the writes
# (one synced commit per chunk) stay a small share of the work.
CHUNK_BATCHES = 8
# Masked copies per pseudo-likelihood batch, per record of `batch_size`: the copies are
# short (one record each), so a batch packs many.
PSEUDO_ROWS_PER_RECORD = 8


def embeddings_chunked(model: Any, token_ids: Sequence[np.ndarray], batch_size: int,
                       progress: Progress, checkpoint: Any, role: str) -> np.ndarray:
    """One embedding per record, `batch_size * CHUNK_BATCHES` records a unit."""
    size = max(1, batch_size) * CHUNK_BATCHES
    bounds = [(start, min(start + size, len(token_ids))) for start in range(0, len(token_ids), size)]
    parts = _run_chunks(bounds, progress, checkpoint, f"embeddings/{role}", "embeddings",
                        lambda chunk, piece: model.embeddings(chunk, batch_size, piece), token_ids)
    return np.vstack(parts) if parts else np.zeros((0, 0))


def pseudo_chunked(model: Any, token_ids: Sequence[np.ndarray], mask_id: int, batch_size: int,
                   progress: Progress, checkpoint: Any, role: str) -> np.ndarray:
    """Each record's pseudo-log-likelihood, chunks of about CHUNK_BATCHES batches of copies."""
    rows = max(1, batch_size) * PSEUDO_ROWS_PER_RECORD
    bounds = pseudo_chunk_bounds([len(ids) for ids in token_ids], rows * CHUNK_BATCHES)
    parts = _run_chunks(bounds, progress, checkpoint, f"pseudo/{role}", "pseudo-likelihood",
                        lambda chunk, piece: model.pseudo_log_likelihood(chunk, mask_id, rows, piece),
                        token_ids, weights=[max(1, n - 2) for n in map(len, token_ids)])
    return np.concatenate(parts) if parts else np.zeros(0)


def pseudo_chunk_bounds(lengths: Sequence[int], copies: int) -> list[tuple[int, int]]:
    """Runs of whole records holding at least `copies` masked copies (the last may hold
    fewer); a record of n tokens makes n - 2 copies (its ends are not scored)."""
    bounds, start, held = [], 0, 0
    for i, n in enumerate(lengths):
        held += max(0, n - 2)
        if held >= copies:
            bounds.append((start, i + 1))
            start, held = i + 1, 0
    if start < len(lengths):
        bounds.append((start, len(lengths)))
    return bounds


def _run_chunks(bounds: list[tuple[int, int]], progress: Progress, checkpoint: Any, unit: str,
                message: str, compute: Any, token_ids: Sequence[np.ndarray],
                weights: Sequence[int] | None = None) -> list[np.ndarray]:
    """Each chunk computed (or read back) in order; progress by `weights` per record."""
    shares = np.ones(len(token_ids)) if weights is None else np.asarray(weights, dtype=np.float64)
    edges = np.concatenate([[0.0], np.cumsum(shares)]) / max(float(np.sum(shares)), 1.0)
    parts = []
    for start, end in bounds:
        piece = progress.slice(edges[start], edges[end])
        chunk = list(token_ids[start:end])
        parts.append(resumable(checkpoint, f"{unit}/{start}", lambda: compute(chunk, piece),
                               encode_array, decode_array))
        piece.advance(1.0, message)
    return parts
