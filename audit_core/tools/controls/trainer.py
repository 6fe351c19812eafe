"""Small GPT-2 control models trained on CPU from a `GPT2Config`.

The control models exist to memorize on purpose (or, for the negative control, to have
never seen the audited members), so training is plain and deterministic rather than
good: no dropout, no weight decay, AdamW with warmup and cosine decay, full passes
over the data in a fixed shuffled order.

Records are tokenized exactly as the audit scores them (`[BOS] ... [EOS]`). A record
longer than the context is cut into consecutive context-sized chunks, each trained as
its own sequence starting at position 0; chunks of fewer than two tokens are dropped
(nothing to predict).

Determinism: the same sequences, size, epochs and seed give bit-identical weights on
the same machine with the same torch build and thread count (we pin 2 intra-op threads
and turn on `torch.use_deterministic_algorithms` while training). Across CPUs with
different instruction sets (AVX-512 vs AVX2) or torch versions, the floating-point
reductions can differ in the last bits and training then drifts; the cohorts and the
training order do not.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import GPT2Config, GPT2LMHeadModel

from audit_core.tools.controls.vocabulary import BOS, EOS, PAD

TRAINING_THREADS = 2
_IGNORE_INDEX = -100  # label value the HF loss skips (padding)
_BATCHES_PER_BUCKET = 16


@dataclass(frozen=True)
class ModelSize:
    """Shape of a control model. `n_positions` is the context the audit must window to."""

    name: str
    n_embd: int
    n_layer: int
    n_head: int
    n_positions: int = 128


TINY = ModelSize("tiny", n_embd=64, n_layer=2, n_head=2)
DEMO = ModelSize("demo", n_embd=128, n_layer=4, n_head=4)

# (epoch, total epochs, mean training loss of that epoch)
EpochCallback = Callable[[int, int, float], None]


def build_model(size: ModelSize, tokenizer: Tokenizer, *, seed: int) -> GPT2LMHeadModel:
    """A freshly initialised GPT-2 with the tokenizer's vocabulary and special ids."""
    config = GPT2Config(
        vocab_size=tokenizer.get_vocab_size(),
        n_positions=size.n_positions,
        n_embd=size.n_embd,
        n_layer=size.n_layer,
        n_head=size.n_head,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=tokenizer.token_to_id(BOS),
        eos_token_id=tokenizer.token_to_id(EOS),
        pad_token_id=tokenizer.token_to_id(PAD),
        tie_word_embeddings=True,
        architectures=["GPT2LMHeadModel"],
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    model.loss_type = "ForCausalLM"  # the default anyway; naming it silences a warning
    return model


def encode_training_chunks(sequences: Sequence[str], tokenizer: Tokenizer,
                           context: int) -> list[list[int]]:
    """Token ids with BOS/EOS, cut into context-sized chunks."""
    chunks: list[list[int]] = []
    for encoding in tokenizer.encode_batch(list(sequences)):
        ids = [i for i, mask in zip(encoding.ids, encoding.attention_mask) if mask]
        chunks.extend(chunk for start in range(0, len(ids), context)
                      if len(chunk := ids[start:start + context]) >= 2)
    return chunks


def _epoch_batches(rng: np.random.Generator, lengths: np.ndarray,
                   batch_size: int) -> list[np.ndarray]:
    """Shuffled batches of similar-length chunks, so little compute goes to padding."""
    order = rng.permutation(len(lengths))
    bucket = batch_size * _BATCHES_PER_BUCKET
    batches: list[np.ndarray] = []
    for start in range(0, len(order), bucket):
        members = order[start:start + bucket]
        members = members[np.argsort(lengths[members], kind="stable")]
        batches.extend(members[i:i + batch_size] for i in range(0, len(members), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _collate(chunks: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(c) for c in chunks)
    input_ids = torch.full((len(chunks), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(chunks), width), dtype=torch.long)
    for row, chunk in enumerate(chunks):
        input_ids[row, :len(chunk)] = torch.tensor(chunk)
        attention_mask[row, :len(chunk)] = 1
    labels = input_ids.masked_fill(attention_mask == 0, _IGNORE_INDEX)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def _learning_rate(step: int, total: int, peak: float) -> float:
    warmup = max(1, total // 20)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


@contextmanager
def deterministic_torch(threads: int = TRAINING_THREADS):
    """Pin threads and deterministic kernels for the block, then restore the settings."""
    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        torch.set_num_threads(previous_threads)


def train_model(sequences: Sequence[str], tokenizer: Tokenizer, *, size: ModelSize,
                epochs: int, seed: int, batch_size: int = 32, learning_rate: float = 3e-3,
                on_epoch: EpochCallback | None = None,
                start_from: GPT2LMHeadModel | None = None) -> GPT2LMHeadModel:
    """Train a fresh model of `size` on `sequences` (duplicates count as extra exposure), or
    fine-tune a copy of `start_from` (a base model of that size; it is left unchanged)."""
    if epochs < 1:
        raise ValueError("epochs must be >= 1")
    chunks = encode_training_chunks(sequences, tokenizer, size.n_positions)
    if not chunks:
        raise ValueError("no training sequences with at least two tokens")
    pad_id = tokenizer.token_to_id(PAD)
    if pad_id is None:  # build_tokenizer always adds it
        raise ValueError(f"the control tokenizer has no {PAD} token")
    lengths = np.array([len(c) for c in chunks])
    rng = np.random.default_rng(seed)
    with deterministic_torch():
        model = build_model(size, tokenizer, seed=seed) if start_from is None else copy.deepcopy(start_from)
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate,
                                      betas=(0.9, 0.98), weight_decay=0.0)
        steps_per_epoch = math.ceil(len(chunks) / batch_size)
        total_steps, step = epochs * steps_per_epoch, 0
        for epoch in range(epochs):
            losses = []
            for batch_index in _epoch_batches(rng, lengths, batch_size):
                for group in optimizer.param_groups:
                    group["lr"] = _learning_rate(step, total_steps, learning_rate)
                batch = _collate([chunks[i] for i in batch_index], pad_id)
                loss = model(**batch).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                losses.append(loss.item())
                step += 1
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, float(np.mean(losses)))
    model.eval()
    return model
