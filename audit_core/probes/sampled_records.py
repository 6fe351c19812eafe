"""Sampling records from the audited model, shared by the probes that read what it writes
(identifier leakage, quasi-identifier re-identification).

Prompts are token-id arrays (a record's first tokens, or the start token alone for
unprompted generation); continuations stop at the end token. Batches are small enough
to report progress and honour a cancel between them; the draws come from the probe's
seeded generator only, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer

from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.work.progress import Progress

_STOP_TOKENS = ("[EOS]", "</s>", "<|endoftext|>", "<eos>", "<|end_of_text|>")


def start_prompt(tokenizer: Tokenizer) -> np.ndarray | None:
    """The ids the tokenizer puts before any record (BOS), or None if it adds nothing."""
    ids = tokenizer.encode("", add_special_tokens=True).ids
    if not ids:
        return None
    # An empty record encodes as BOS EOS; the prompt is what comes before the content.
    stops = set(stop_ids(tokenizer))
    head = [i for i in ids if i not in stops]
    return np.asarray(head or ids[:1], dtype=np.int64)


def stop_ids(tokenizer: Tokenizer) -> list[int]:
    return [i for name in _STOP_TOKENS if (i := tokenizer.token_to_id(name)) is not None]


def sample_continuations(model: OnnxCausalLM, prompts: Sequence[np.ndarray], *, steps: int, n: int,
                         rng: np.random.Generator, temperature: float, top_p: float,
                         stops: Sequence[int], batch_size: int, progress: Progress,
                         message: str) -> list[list[np.ndarray]]:
    """`n` continuations per prompt, each cut after its stop token (kept) -> [prompt][sample]."""
    out: list[list[np.ndarray]] = []
    per_call = max(1, batch_size // max(n, 1))
    total = max(1, -(-len(prompts) // per_call))
    progress.advance(0.0, message)
    for call, start in enumerate(range(0, len(prompts), per_call)):
        chunk = list(prompts[start:start + per_call])
        drawn = model.sample(chunk, steps, n=n, rng=rng, temperature=temperature, top_p=top_p,
                             stop_ids=stops, batch_size=batch_size)
        for row in drawn.tokens:
            out.append([sample[sample >= 0] for sample in row])
        progress.advance((call + 1) / total, message)
    return out


def decode(tokenizer: Tokenizer, ids: np.ndarray) -> str:
    return tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)
