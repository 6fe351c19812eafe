"""The shared scoring pass's chunks scored on workers (a cluster run, audit_core/cluster/).

The chunks are the inline loop's (passes/chunked_scoring.py), their checkpoint units the
same (`scores/<scorer>/<cohort>/<start>`), and they come back in order: the driver saves
each finished chunk as it arrives and reduces the chunks in the order the inline loop
does, so the probes see the same numbers in the same order. A chunk the checkpoint
already holds is not sent out (a resumed run continues where it stopped); one that holds
only the audited model's scores is sent for the reference model's alone.

A worker returns each chunk's scores encoded as the checkpoint keeps them (exact bits),
so what travels back is what is saved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.data.events import EventFeatures
from audit_core.passes.token_scores import TokenScores, decode_scores, encode_scores, score_tokens
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Progress, ignore_progress
from audit_core.work.shards import SCORE, Shards
from audit_core.work.units import resumable


@dataclass(frozen=True, slots=True)
class ChunkShard:
    """One chunk of records for a worker: which scorers still need it (0 the audited
    model, 1 the reference model), its records' ids and events, and the pass's batching."""

    scorers: tuple[int, ...]
    token_ids: tuple[np.ndarray, ...]
    events: tuple[EventFeatures, ...] | None
    batch_size: int
    pad_id: int


def score_shard(scorers: Sequence[Any], shard: ChunkShard) -> list[bytes]:
    """On a worker: the chunk scored by each scorer asked, encoded for the checkpoint."""
    return [encode_scores(score_tokens(scorers[i], list(shard.token_ids), batch_size=shard.batch_size,
                                       pad_id=shard.pad_id, progress=Progress(ignore_progress),
                                       events=list(shard.events) if shard.events is not None else None))
            for i in shard.scorers]


def scored_on_workers(shards: Shards, scorers: Sequence[Any], token_ids: Sequence[np.ndarray],
                      events: Sequence[EventFeatures] | None, *, size: int, batch_size: int,
                      pad_id: int, checkpoint: OpenCheckpoint, unit: str) -> Iterator[list[TokenScores]]:
    """Each chunk's scores (one per scorer, without targets), chunk by chunk in order.
    `scorers`: the driver's own models, which recompute a saved unit that cannot be read."""
    starts = range(0, len(token_ids), size)

    def names(start: int) -> list[str]:
        return [f"scores/{i}/{unit}/{start}" for i in range(len(scorers))]

    missing = {start: tuple(i for i, name in enumerate(names(start)) if not checkpoint.has(name))
               for start in starts}

    def payloads() -> Iterator[ChunkShard]:
        for start in starts:
            if missing[start]:
                yield ChunkShard(missing[start], tuple(token_ids[start:start + size]),
                                 tuple(events[start:start + size]) if events is not None else None,
                                 batch_size, pad_id)

    results = shards.map(SCORE, payloads())
    for start in starts:
        fresh = dict(zip(missing[start], next(results))) if missing[start] else {}
        chunk = list(token_ids[start:start + size])
        chunk_events = list(events[start:start + size]) if events is not None else None
        scored = []
        for i, name in enumerate(names(start)):
            if i in fresh:  # saved as it arrives: a driver lost later resumes after it
                checkpoint.save(name, fresh[i])
                scored.append(decode_scores(fresh[i]))
            else:  # saved by an earlier run; one that cannot be read is scored here again
                scored.append(resumable(
                    checkpoint, name,
                    lambda: score_tokens(scorers[i], chunk, batch_size=batch_size, pad_id=pad_id,
                                         progress=Progress(ignore_progress), events=chunk_events),
                    encode_scores, decode_scores))
        yield scored
