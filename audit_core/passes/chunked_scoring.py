"""The shared scoring pass, streamed: chunk by chunk, reduced to a few numbers per record.

The token-level arrays of a whole cohort grow with it (three floats per token and an array
object per record: about 200 MB for 100k short records), yet every probe keeps only one
value per record (a mean, the mean of the lowest k%, a likelihood ratio). So each chunk of
records is scored by the audited model (and the reference model, when there is one, on the
same ids), handed to every selected probe's `reduce`, and let go: what stays in memory is
the probes' per-record values, and peak memory does not grow with the token count.

Each chunk is a unit of work a checkpoint keeps (its token scores, so that a resumed run
reduces exactly the bits an uninterrupted one did). Chunk boundaries depend only on the
number of records and the batch size, never on whether the run was interrupted, so a
resumed run batches (and so computes) exactly as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from audit_core.passes.chunk_shards import scored_on_workers
from audit_core.passes.token_scores import TokenScores, decode_scores, encode_scores, score_tokens
from audit_core.work.progress import Progress
from audit_core.work.shards import Shards
from audit_core.work.units import resumable

# Records per chunk, in batches: big enough that length bucketing still packs batches
# well, small enough that a crash loses a few minutes of a long run at most.
CHUNK_BATCHES = 8

# (audited model's scores of a chunk, the reference model's or None) -> one value per record.
Reducer = Callable[[TokenScores, TokenScores | None], np.ndarray]


@dataclass(frozen=True, slots=True)
class ReducedScores:
    """One cohort after the shared pass: what each reducer kept, and the windows count."""

    reduced: dict[str, np.ndarray]  # reducer name (a probe id) -> one value per record
    windows: np.ndarray  # (n,) number of context windows each record was scored in


def score_streamed(scorers: Sequence[Any], token_ids: Sequence[np.ndarray],
                   reducers: Mapping[str, Reducer], *, batch_size: int, pad_id: int,
                   progress: Progress, checkpoint: Any, unit: str,
                   events: Sequence[Any] | None = None, shards: Shards | None = None) -> ReducedScores:
    """Score `token_ids` chunk by chunk with `scorers` (the audited model, then optionally
    a reference model) and reduce each chunk; chunk j of scorer i is saved as
    `scores/<i>/<unit>/<start>`. `events`: the records' event features, fed to a model's
    side inputs (None for a model without them). `shards`: score the chunks on a cluster's
    workers (passes/chunk_shards.py), reduced here in the same order; None: inline."""
    size = max(1, batch_size * CHUNK_BATCHES)
    total = max(len(token_ids), 1)
    kept: dict[str, list[np.ndarray]] = {name: [] for name in reducers}
    windows = []
    remote = (scored_on_workers(shards, scorers, token_ids, events, size=size, batch_size=batch_size,
                                pad_id=pad_id, checkpoint=checkpoint, unit=unit)
              if shards is not None else None)
    for start in range(0, len(token_ids), size):
        chunk = list(token_ids[start:start + size])
        chunk_events = list(events[start:start + size]) if events is not None else None
        part = progress.slice(start / total, (start + len(chunk)) / total)
        scored = []
        if remote is not None:
            progress.check()  # the bar moves per chunk; a cancel is heard between chunks
            scored = [s.with_targets(chunk) for s in next(remote)]
        for i, scorer in enumerate(scorers if remote is None else ()):
            step = part.slice(i / len(scorers), (i + 1) / len(scorers))
            scored.append(resumable(
                checkpoint, f"scores/{i}/{unit}/{start}",
                lambda: score_tokens(scorer, chunk, batch_size=batch_size, pad_id=pad_id, progress=step,
                                     events=chunk_events),
                encode_scores, decode_scores).with_targets(chunk))
        target, reference = scored[0], (scored[1] if len(scored) > 1 else None)
        for name, reduce in reducers.items():
            kept[name].append(np.asarray(reduce(target, reference), dtype=np.float64))
        windows.append(np.asarray(target.windows, dtype=np.int64))
        part.advance(1.0, "scoring tokens")
    return ReducedScores(
        reduced={name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in kept.items()},
        windows=np.concatenate(windows) if windows else np.zeros(0, dtype=np.int64))


def mean_logprobs(scores: TokenScores) -> np.ndarray:
    """Each record's mean log-probability of its own tokens (minus the LOSS of Yeom et al.)."""
    return np.array([float(lp.mean()) for lp in scores.logprobs])


def token_level_reducer(probe: Any, config: Any, token_ids: Mapping[Any, Sequence[np.ndarray]],
                        vocabulary: Mapping[str, int] | None = None) -> Reducer:
    """What reduces each chunk for `probe`: its `reducer(config, token_ids)` when it has one
    (a reduction that needs both cohorts' ids before the pass, e.g. a token-frequency table
    built from the non-members), else its `reduce` with `config`. A probe that declares
    `reducer_reads_vocabulary` also gets the tokenizer's vocabulary (token -> id), e.g. to
    read a public frequency table that names tokens."""
    build = getattr(probe, "reducer", None)
    if build is not None:
        if getattr(probe, "reducer_reads_vocabulary", False):
            return cast(Reducer, build(config, token_ids, vocabulary))
        return cast(Reducer, build(config, token_ids))
    return lambda target, reference: probe.reduce(config, target, reference)


def reduce_all(probe: Any, config: Any, scores: Mapping[Any, TokenScores],
               reference: Mapping[Any, TokenScores] | None = None,
               token_ids: Mapping[Any, Sequence[np.ndarray]] | None = None,
               vocabulary: Mapping[str, int] | None = None) -> dict[Any, np.ndarray]:
    """A probe's reduction of whole passes already held in memory (tests, small tools).
    `token_ids`: the cohorts' ids, for a probe with a `reducer` (required then)."""
    if getattr(probe, "reducer", None) is not None and token_ids is None:
        raise ValueError(f"{probe.id} builds its reducer from the cohorts' token ids: pass token_ids")
    reduce = token_level_reducer(probe, config, token_ids or {}, vocabulary)
    return {role: np.asarray(reduce(s, reference[role] if reference else None), dtype=np.float64)
            for role, s in scores.items()}
