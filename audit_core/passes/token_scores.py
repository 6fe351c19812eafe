"""The shared scoring pass: per-token log-probabilities, once per model and cohort.

One forward pass per sequence (not one per prefix): teacher-forced logits give, at every
position t, log p(x_t | x_<t) and the mean and standard deviation of log p under the
model's own next-token distribution (what Min-K%++ normalises by). Records longer than
the context are scored in overlapping windows; every token after the first is scored
exactly once, with at least half a context of history once the first window is full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from audit_core.data.events import EventFeatures
from audit_core.work.progress import Progress
from audit_core.work.units import from_npz, to_npz

if TYPE_CHECKING:  # for the annotation only: importing this module loads no model runtime
    from audit_core.models.onnx_causal_lm import OnnxCausalLM

# Upper bound on one batch's logits (floats): keeps memory flat for large vocabularies.
_MAX_LOGIT_FLOATS = 48_000_000
# Upper bound on the elements of one slice of the log-softmax statistics (float32 temporaries).
_STATS_FLOATS = 4_000_000


@dataclass(frozen=True, slots=True)
class TokenScores:
    """Per record: arrays over positions 1..L-1 (the first token has no prediction)."""

    logprobs: tuple[np.ndarray, ...]
    means: tuple[np.ndarray, ...]
    stds: tuple[np.ndarray, ...]
    windows: np.ndarray  # (n,) number of windows each record was scored in
    # The token ids those positions predict (each record's ids[1:]), for reducers that weigh a
    # token by what it is (a frequency table, a template). Not checkpointed: the ids are the
    # records' own, and chunked_scoring puts them back on a resumed chunk (`with_targets`).
    targets: tuple[np.ndarray, ...] = ()
    # log p of the model's own most likely next token at each position (-log Z of the
    # softmax, free in the pass): the true token was the model's top prediction exactly
    # where logprobs == tops (EZ-MIA's "error positions" are the others). Checkpointed;
    # empty only in checkpoints written before it existed.
    tops: tuple[np.ndarray, ...] = ()

    def with_targets(self, token_ids: Sequence[np.ndarray]) -> TokenScores:
        """These scores with the ids they predict, from the records they were scored on."""
        return replace(self, targets=tuple(np.asarray(ids[1:]) for ids in token_ids))

    @property
    def tokens(self) -> int:
        return int(sum(len(x) + 1 for x in self.logprobs))



def encode_scores(scores: TokenScores) -> bytes:
    """A chunk of the shared pass as a checkpoint unit (work/units.py): exact bits, no pickle."""
    lengths = np.array([len(x) for x in scores.logprobs], dtype=np.int64)
    return to_npz(lengths=lengths, windows=np.asarray(scores.windows),
                  logprobs=_flat(scores.logprobs), means=_flat(scores.means), stds=_flat(scores.stds),
                  **({"tops": _flat(scores.tops)} if scores.tops else {}))


def decode_scores(data: bytes) -> TokenScores:
    arrays = from_npz(data)
    cuts = np.cumsum(arrays["lengths"])[:-1]

    def split(name: str) -> tuple[np.ndarray, ...]:
        return tuple(np.split(arrays[name], cuts)) if len(arrays["lengths"]) else ()

    return TokenScores(logprobs=split("logprobs"), means=split("means"), stds=split("stds"),
                       windows=arrays["windows"], tops=split("tops") if "tops" in arrays else ())


def _flat(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


@dataclass(frozen=True, slots=True)
class _Window:
    record: int
    start: int  # first token of the window in the record
    end: int  # one past the last token
    first_scored: int  # first position (in the record) whose prediction is kept


def plan_windows(length: int, context: int) -> list[tuple[int, int, int]]:
    """(start, end, first_scored) windows covering positions 1..length-1 exactly once."""
    end = min(length, context)
    windows = [(0, end, 1)]
    stride = max(context // 2, 1)
    while end < length:
        new_end = min(end + stride, length)
        windows.append((max(new_end - context, 0), new_end, end))
        end = new_end
    return windows


def score_tokens(model: OnnxCausalLM, token_ids: Sequence[np.ndarray], *, batch_size: int, pad_id: int,
                 progress: Progress, events: Sequence[EventFeatures] | None = None) -> TokenScores:
    """Run the shared pass over one cohort's encoded records. `events` (one per record, for
    a model with side inputs) are cut to each window, so a window that starts inside a
    record still reads its own tokens' times."""
    context = model.context_length
    windows = [_Window(i, s, e, f) for i, ids in enumerate(token_ids)
               for s, e, f in plan_windows(len(ids), context)]
    # Length-bucketed batches: sorting by length keeps padding (wasted work) small.
    windows.sort(key=lambda w: (w.end - w.start, w.record))
    n = len(token_ids)
    # Each record's arrays are allocated once, at their final size, and windows write
    # their positions into them: no per-window pieces to keep and join afterwards.
    logprobs = [np.empty(max(len(ids) - 1, 0)) for ids in token_ids]
    means = [np.empty(len(x)) for x in logprobs]
    stds = [np.empty(len(x)) for x in logprobs]
    tops = [np.empty(len(x)) for x in logprobs]
    counts = np.zeros(n, dtype=np.int64)

    per_batch = max(1, min(batch_size, _MAX_LOGIT_FLOATS // max(context * model.vocab_size, 1)))
    budget = getattr(model, "device_budget", None)  # on a GPU: what its free memory holds
    if budget is not None:
        per_batch = budget.cap("scoring", per_batch, context)
    batches = [windows[i:i + per_batch] for i in range(0, len(windows), per_batch)]
    progress.advance(0.0, "scoring tokens")
    for done, batch in enumerate(batches):
        width = max(w.end - w.start for w in batch)
        ids = np.full((len(batch), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, w in enumerate(batch):
            ids[row, : w.end - w.start] = token_ids[w.record][w.start:w.end]
            mask[row, : w.end - w.start] = 1
        if events is None:
            logits = model.logits(ids, mask)
        else:
            logits = model.logits(ids, mask, events=[events[w.record].take(slice(w.start, w.end))
                                                     for w in batch])
        # One vectorised pass over the batch: row r, index t predicts ids[r, t + 1].
        batch_lp, batch_mu, batch_sd, batch_top = _batch_stats(logits, ids)
        del logits  # the largest array of the pass; gone before the next batch's arrives
        for row, w in enumerate(batch):
            # Prediction for position p sits at logits index p - 1 (relative to the window).
            lo, hi = w.first_scored - w.start - 1, w.end - w.start - 1
            if hi > lo:
                # Position p of the record is index p - 1 of its arrays.
                dest = slice(w.first_scored - 1, w.end - 1)
                logprobs[w.record][dest] = batch_lp[row, lo:hi]
                means[w.record][dest] = batch_mu[row, lo:hi]
                stds[w.record][dest] = batch_sd[row, lo:hi]
                tops[w.record][dest] = batch_top[row, lo:hi]
            counts[w.record] += 1
        progress.advance((done + 1) / len(batches), "scoring tokens")
    return TokenScores(logprobs=tuple(logprobs), means=tuple(means), stds=tuple(stds),
                       windows=counts, tops=tuple(tops)).with_targets(token_ids)


def _batch_stats(logits: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(B, T, V) logits and (B, T) ids -> four (B, T-1) float64 arrays: log p(next token),
    the mean and standard deviation of log p under the predicted distribution, and the log p
    of the most likely token (its shifted logit is 0, so it is -log Z).

    Element-wise work stays in float32 (the logits' precision) with one exp per element;
    the sums over the vocabulary accumulate in float64. Rows go in slices of at most
    `_STATS_FLOATS` elements, so the temporaries stay small whatever the vocabulary.
    """
    batch, width, vocab = logits.shape
    shape = (batch, max(width - 1, 0))
    target_lp, mean, std, top = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape)
    step = max(1, _STATS_FLOATS // max(width * vocab, 1))
    for start in range(0, batch, step):
        rows = slice(start, start + step)
        x = logits[rows, :-1]
        shifted = x - x.max(axis=-1, keepdims=True)
        weighted = np.exp(shifted)
        norm = weighted.sum(axis=-1, dtype=np.float64)
        log_norm = np.log(norm)
        np.multiply(weighted, shifted, out=weighted)  # e^s * s
        first = weighted.sum(axis=-1, dtype=np.float64) / norm
        np.multiply(weighted, shifted, out=weighted)  # e^s * s^2
        second = weighted.sum(axis=-1, dtype=np.float64) / norm
        # log p = s - log Z, so E[log p] = E[s] - log Z and Var[log p] = Var[s].
        mean[rows] = first - log_norm
        std[rows] = np.sqrt(np.maximum(second - first * first, 0.0))
        picked = np.take_along_axis(shifted, ids[rows, 1:, None], axis=-1)[..., 0]
        target_lp[rows] = picked - log_norm
        top[rows] = -log_norm
    return target_lp, mean, std, top
