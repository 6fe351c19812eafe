"""Decoding many rows of equal-length prompts together: the one decoding loop of an ONNX
causal language model (greedy, temperature and nucleus sampling, watched-set masses).

Why equal lengths only: onnxruntime computes each row of a batch with exactly the same
bits whatever the other rows are, as long as every row has the same length (measured on
the CPU provider, issue 21: 1 to 64 rows of one length give bit-identical logits), while a
padded row (left padding, or holes in the cache) moves its logits by ~1e-6, enough to
flip a sampled token now and then. So a row's continuation depends on its prompt and its
own draws only, never on which rows share its batch: a probe's samples are the same
whether it decodes alone or merged with every other probe's requests (generation/).

The draws are given per row (`draws[r, t]`, uniform in [0, 1)), not taken from a shared
generator, for the same reason. Rows stop at their own horizon (`steps[r]`) or at a stop
token (kept, then -1); finished rows leave the batch once enough have finished, so a
batch with a few long rows does not keep decoding the finished ones.

A graph with a KV cache runs each prompt once (`unique` prompts, their cache repeated for
every row drawn from it) and then one token per step; a plain graph recomputes the whole
sequence at every step (same tokens, O(length) times the work: models/inspection.py's
`kv_cache` and the estimate say so before a run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.data.events import EventFeatures
from audit_core.models.nucleus import nucleus
from audit_core.models.token_draw import draw_tokens

# The model is an OnnxCausalLM (models/onnx_causal_lm.py), whose own greedy() and sample()
# call this module: typed loosely here so that the two modules do not import each other.
OnnxCausalLM = Any

# Finished rows are dropped once the row-steps they would still cost reach this many
# steps of the whole batch (a drop costs about one).
_COMPACT_WHEN = 3


@dataclass(frozen=True, slots=True)
class RowSettings:
    """What every row of one decoding group shares."""

    temperature: float  # 0: greedy (argmax)
    top_p: float
    stops: np.ndarray  # int64 token ids that end a row (kept)
    # Token-id sets whose probability each step records. Summed row by row (a matrix product
    # would not do: BLAS rounds a row differently with a different number of rows).
    watch: tuple[np.ndarray, ...] | None


def decode_rows(model: OnnxCausalLM, prompts: np.ndarray, events: Sequence[EventFeatures | None] | None,
                owner: np.ndarray, steps: np.ndarray, draws: np.ndarray | None,
                settings: RowSettings, *, on_step: Callable[[int], None] = lambda _n: None,
                lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Continue `len(owner)` rows; row r continues prompt `owner[r]`.

    `prompts`: (U, P) distinct prompts of one length, or left-padded to it when `lengths`
    gives their real lengths (only for a model whose `left_padding` allows it: the caller
    pads each prompt to a length fixed by its own length, so that its bits never depend on
    its companions); `events`: one per prompt or None;
    `steps`: (R,) each row's horizon; `draws`: (R, max steps) uniforms (None when greedy).
    Returns tokens (R, max steps) int64, -1 after a stop token and past a row's horizon,
    and mass (R, max steps, K) float64, the probability the sampling distribution gave each
    watched set (0 after a stop). `on_step(rows)` is told how many rows each step decoded.
    """
    rows = len(owner)
    horizon = int(steps.max()) if rows else 0
    watched = 0 if settings.watch is None else len(settings.watch)
    tokens = np.full((rows, horizon), -1, dtype=np.int64)
    mass = np.zeros((rows, horizon, watched))
    if rows == 0:
        return tokens, mass
    state = _start(model, prompts, events, lengths)
    state = state.take(owner, model)
    active = np.arange(rows)  # the batch's rows in the model's state, in order
    live = np.ones(rows, dtype=bool)  # which of them still decode (the others are dropped later)
    last = state.logits
    # Whether each token id is a stop token: a lookup per step where np.isin sorts both.
    stop = np.zeros(last.shape[1], dtype=bool)
    stop[settings.stops[(settings.stops >= 0) & (settings.stops < len(stop))]] = True
    for step in range(horizon):
        greedy = settings.temperature == 0 or draws is None
        # Greedy decoding reads no distribution unless a watched set asks for it.
        probs, support = (_distribution(last, settings.temperature, settings.top_p)
                          if not greedy or settings.watch is not None else (last, None))
        if greedy:
            token = last.argmax(axis=-1)
        else:
            assert draws is not None
            token = draw_tokens(probs, draws[active, step], support)
        written = active[live]
        tokens[written, step] = token[live]
        if settings.watch is not None:
            kept = probs if live.all() else probs[live]
            for k, ids in enumerate(settings.watch):
                mass[written, step, k] = kept[:, ids].sum(axis=1)
        on_step(len(active))
        live &= ~stop[token] & (steps[active] > step + 1)
        if not live.any():
            break
        # Finished rows leave the model's state when that saves clearly more than it costs:
        # copying the state costs about one step of every row (measured on the demo: 11 ms
        # against a 12 ms step of 256 rows), keeping a finished row costs a step each.
        remaining = int(steps[active[live]].max()) - step - 1
        if (~live).sum() * remaining >= _COMPACT_WHEN * len(active):
            keep = np.flatnonzero(live)
            active, token, live = active[keep], token[keep], live[keep]
            state = state.take(keep, model)
        last = state.advance(model, token)
    return tokens, mass


class _State:
    """The rows being decoded: a KV graph's cache or a plain graph's whole sequences, the
    side inputs' state, and each row's last logits."""

    def __init__(self, logits: np.ndarray, past: dict[str, np.ndarray] | None, total: int,
                 sequence: np.ndarray | None, side: dict[str, np.ndarray], side_state,
                 mask: np.ndarray | None = None, filled: np.ndarray | None = None) -> None:
        self.logits = logits  # (rows, V) after each row's last token
        self.past = past
        self.total = total  # tokens per row so far (pads included)
        self.sequence = sequence
        self.side = side  # a plain graph's full-row side inputs
        self.side_state = side_state
        self.mask = mask  # (rows, total) for left-padded rows; None: no pads
        # Each row's real tokens so far, (rows, 1): counted as the mask grows, not summed
        # again at every step.
        self.filled = filled if filled is not None or mask is None else mask.sum(axis=1, keepdims=True)

    def take(self, index: np.ndarray, model: OnnxCausalLM) -> _State:
        # The cache is selected where it lives: on the device with I/O binding (a gather
        # there, models/io_binding.py), else by numpy indexing.
        past = None if self.past is None else model._take_past(self.past, index)
        sequence = None if self.sequence is None else self.sequence[index]
        side = {k: v[index] for k, v in self.side.items()} if self.sequence is not None else {}
        side_state = None if self.side_state is None else self.side_state.take(index)
        mask = None if self.mask is None else self.mask[index]
        filled = None if self.filled is None else self.filled[index]
        return _State(self.logits[index], past, self.total, sequence, side, side_state, mask, filled)

    def advance(self, model: OnnxCausalLM, token: np.ndarray) -> np.ndarray:
        column, self.side_state = model._side_step(token, self.side_state)
        self.total += 1
        positions = None
        if self.mask is not None:
            assert self.filled is not None
            self.mask = np.concatenate([self.mask, np.ones((len(token), 1), dtype=np.int64)], axis=1)
            self.filled = self.filled + 1
            positions = self.filled - 1
        if self.past is not None:
            logits, self.past = model._decode(token, self.total, self.past, column, mask=self.mask,
                                              positions=positions)
        else:
            assert self.sequence is not None
            self.sequence = np.concatenate([self.sequence, token[:, None]], axis=1)
            self.side = {name: np.concatenate([v, column[name]], axis=1) for name, v in self.side.items()}
            logits, _ = model._run(self.sequence, np.ones(self.sequence.shape, dtype=np.int64),
                                   past=None, side=self.side)
        self.logits = logits[:, -1, :]
        return self.logits


def _start(model: OnnxCausalLM, prompts: np.ndarray, events, lengths: np.ndarray | None) -> _State:
    batch, length = prompts.shape
    if lengths is not None:  # left-padded: each row's real tokens are its last `lengths`
        mask = (np.arange(length)[None, :] >= length - lengths[:, None]).astype(np.int64)
        logits, past = model._run(prompts, mask, past=model._empty_past(batch), side={}, on_device=True)
        return _State(logits[:, -1, :], past, length, None, {}, None, mask)
    mask = np.ones((batch, length), dtype=np.int64)
    side, side_state = model._side_rows(prompts, mask, events)
    if model.kv_cache:
        logits, past = model._run(prompts, mask, past=model._empty_past(batch), side=side, on_device=True)
        return _State(logits[:, -1, :], past, length, None, {}, side_state)
    logits, _ = model._run(prompts, mask, past=None, side=side)
    return _State(logits[:, -1, :], None, length, prompts.astype(np.int64), side, side_state)


def sampling_distribution(logits: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """Rows of probabilities after temperature and nucleus (top-p) truncation, in float64."""
    return _distribution(logits, temperature, top_p)[0]


def _distribution(logits: np.ndarray, temperature: float,
                  top_p: float) -> tuple[np.ndarray, np.ndarray | None]:
    """`sampling_distribution`, and the flat indices of the entries the nucleus kept (every
    other one is 0), in row-major order; None when it kept every entry."""
    if temperature == 0:
        probs = np.zeros(logits.shape)
        probs[np.arange(len(logits)), logits.astype(np.float64).argmax(axis=-1)] = 1.0
        return probs, None
    if temperature == 1:
        # x / 1.0 == x, and the largest float64 of a row is its largest logit's: one pass
        # (casting to float64 is exact and keeps the order).
        values = np.subtract(logits, logits.max(axis=-1, keepdims=True), dtype=np.float64)
    else:
        values = logits.astype(np.float64) / temperature
        values -= values.max(axis=-1, keepdims=True)
    probs = np.exp(values, out=values)
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p >= 1.0 or not len(probs):
        return probs, None
    # The nucleus is every token at least as likely as the last one needed to reach top_p
    # (the first always stays); tokens tied with that last one are kept too. The kept
    # entries are copied into zeros and divided alone (a few percent of a row): the same
    # bits as np.where(probs >= cutoff, probs, 0.0) divided by its full rows' sums, since
    # 0.0 / total is 0.0 wherever the total is positive (elsewhere every entry is divided).
    kept = nucleus(probs, top_p)
    kept_probs = np.zeros_like(probs)
    flat = kept_probs.reshape(-1)
    flat[kept] = probs.reshape(-1)[kept]
    total = kept_probs.sum(axis=-1)
    if (total > 0).all() and len(kept) < probs.size // 4:  # else dividing every entry is cheaper
        flat[kept] /= total[kept // probs.shape[1]]
    else:
        kept_probs /= total[:, None]
    return kept_probs, kept
