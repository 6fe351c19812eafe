"""Exposure of a canary (Carlini et al. 2019, "The Secret Sharer", section 4).

exposure = log2 |R| - log2 rank, where rank is the position of the inserted secret when
every candidate secret of the randomness space R (same prefix) is ordered by the
model's log-perplexity, most likely first. When R is small enough the rank is exact
(every candidate scored). Otherwise exposure is estimated from a uniform sample of
candidates: a skew-normal distribution is fitted to their log-perplexities and
exposure = -log2 Pr[candidate log-perplexity <= the canary's] (paper, section 4.3).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from audit_core.models.tokenizer_loading import encode_all

_MAX_LOGIT_FLOATS = 16_000_000  # keeps one batch's logits in a few tens of MB
_MAX_CACHE_FLOATS = 64_000_000  # and one batch's key/value cache in a few hundred MB


def past_length(past: dict[str, np.ndarray]) -> int:
    return int(next(iter(past.values())).shape[2]) if past else 0


def log_perplexities(model, tokenizer, texts: Sequence[str], batch_size: int) -> np.ndarray:
    """Summed negative log-likelihood (bits are irrelevant to ranks: nats) of every token
    after the first, per text. Texts of one canary share a prefix, so the sum ranks
    candidates exactly as the secret's conditional likelihood does."""
    ids = encode_all(tokenizer, list(texts))
    out = np.empty(len(ids))
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(ids):
        by_length.setdefault(len(row), []).append(i)
    for length, rows in by_length.items():
        step = max(1, min(batch_size, _MAX_LOGIT_FLOATS // max(1, length * model.vocab_size)))
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            batch = np.stack([ids[i] for i in chunk])
            logits = model.logits(batch, np.ones_like(batch)).astype(np.float64)
            logits -= logits.max(axis=-1, keepdims=True)
            log_norm = np.log(np.exp(logits).sum(axis=-1))
            picked = np.take_along_axis(logits[:, :-1], batch[:, 1:, None], axis=-1)[..., 0]
            out[chunk] = (log_norm[:, :-1] - picked).sum(axis=1)
    return out


def symbol_tree(tokenizer, alphabet: Sequence[str], truth: str,
                secret: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(prompt ids, one token id per symbol) when every symbol is one token and the canary
    encodes as prompt + symbols (+ end tokens); None when the tokenizer merges across."""
    symbols = []
    for symbol in alphabet:
        ids = tokenizer.encode(symbol, add_special_tokens=False).ids
        if len(ids) != 1:
            return None
        symbols.append(ids[0])
    if len(set(symbols)) != len(symbols):
        return None
    ids = tokenizer.encode(truth, add_special_tokens=True).ids
    want = [symbols[i] for i in secret]
    specials = set(tokenizer.encode("", add_special_tokens=True).ids)
    for trailing in range(3):
        start = len(ids) - trailing - len(want)
        if start > 0 and ids[start:start + len(want)] == want and set(ids[start + len(want):]) <= specials:
            return np.asarray(ids[:start], dtype=np.int64), np.asarray(symbols, dtype=np.int64)
    return None


def _symbol_nll(logits: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """(rows, V) next-token logits -> (rows, |A|) negative log-probabilities of the symbols."""
    logits = logits.astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return log_norm - logits[:, symbols]


def tree_log_perplexities(model, prompt: np.ndarray, symbols: np.ndarray, length: int,
                          batch_size: int) -> np.ndarray:
    """Negative log-likelihood of every secret (product order) given the prompt, by
    expanding the tree of partial secrets one symbol at a time: sum of |A|^t rows for
    t < length instead of |A|^length full sequences. With a KV cache each row feeds one
    token on its parent's cache; without one, each row is run in full."""
    if getattr(model, "kv_cache", False):
        return _tree_with_cache(model, prompt, symbols, length, batch_size)
    return _tree_full_rows(model, prompt, symbols, length, batch_size)


def _tree_full_rows(model, prompt: np.ndarray, symbols: np.ndarray, length: int,
                    batch_size: int) -> np.ndarray:
    size = len(symbols)
    totals = np.zeros(1)
    partial = np.zeros((1, 0), dtype=np.int64)
    for _ in range(length):
        rows = np.concatenate([np.repeat(prompt[None, :], len(partial), axis=0), partial], axis=1)
        step = max(1, min(batch_size, _MAX_LOGIT_FLOATS // max(1, rows.shape[1] * model.vocab_size)))
        nll = np.empty((len(rows), size))
        for start in range(0, len(rows), step):
            batch = rows[start:start + step]
            logits = model.logits(batch, np.ones_like(batch))[:, -1, :].astype(np.float64)
            logits -= logits.max(axis=-1, keepdims=True)
            log_norm = np.log(np.exp(logits).sum(axis=-1, keepdims=True))
            nll[start:start + step] = log_norm - logits[:, symbols]
        totals = (totals[:, None] + nll).reshape(-1)
        partial = np.concatenate([np.repeat(partial, size, axis=0),
                                  np.tile(symbols, len(partial))[:, None]], axis=1)
    return totals


def _tree_with_cache(model, prompt: np.ndarray, symbols: np.ndarray, length: int,
                     batch_size: int) -> np.ndarray:
    # The ONNX adapter's single-step call (the one `sample` uses): ids, mask, past.
    logits, past = model._run(prompt[None, :], np.ones((1, len(prompt)), dtype=np.int64),
                              past=model._empty_past(1))
    totals = _symbol_nll(logits[:, -1, :], symbols).reshape(-1)
    size = len(symbols)
    for level in range(1, length):
        # As many rows per call as keep their caches within a few hundred MB.
        per_row = sum(v[:1].size for v in past.values()) // max(1, past_length(past)) * (len(prompt) + level)
        step = int(max(1, min(4096, max(batch_size, _MAX_CACHE_FLOATS // max(1, per_row)))))
        rows = size ** level  # partial secrets of `level` symbols, parent = row // size
        nll = np.empty((rows, size))
        kept: list[dict[str, np.ndarray]] = []
        for start in range(0, rows, step):
            index = np.arange(start, min(start + step, rows))
            parents = index // size
            tokens = symbols[index % size][:, None]
            chunk_past = {name: value[parents] for name, value in past.items()}
            mask = np.ones((len(index), len(prompt) + level), dtype=np.int64)
            logits, present = model._run(tokens, mask, past=chunk_past)
            nll[index] = _symbol_nll(logits[:, -1, :], symbols)
            if level + 1 < length:
                kept.append(present)
        if kept:
            past = {name: np.concatenate([p[name] for p in kept]) for name in kept[0]}
        totals = (totals[:, None] + nll).reshape(-1)
    return totals


def exact_exposure(canary: float, candidates: np.ndarray, space_size: int) -> tuple[float, int]:
    """(exposure in bits, rank) with every candidate of the space scored (the canary too).

    Ties count against the canary (rank after every candidate scoring as well as it),
    so a model that scores everything alike shows no exposure."""
    rank = int((candidates <= canary).sum())
    rank = max(rank, 1)
    return math.log2(space_size) - math.log2(rank), rank


def estimated_exposure(canary: float, sample: np.ndarray, space_size: int) -> float:
    """Exposure from a skew-normal fit to a uniform sample of candidates' log-perplexities."""
    from scipy import stats

    shape, loc, scale = stats.skewnorm.fit(sample)
    tail = float(stats.skewnorm.cdf(canary, shape, loc=loc, scale=scale))
    # Never more than the space allows, never below no exposure at all.
    tail = min(max(tail, 1.0 / space_size), 1.0)
    return -math.log2(tail)


def all_secrets(alphabet_size: int, length: int):
    return itertools.product(range(alphabet_size), repeat=length)
