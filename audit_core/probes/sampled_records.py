"""Sampling records from the audited model, shared by the probes that read what it writes
(identifier leakage, quasi-identifier re-identification).

Prompts are token-id arrays (a record's first tokens, or the start token alone for
unprompted generation); continuations stop at the end token. Each prompt is a request
with its own seed (generation/), decoded by the audit's schedule, so a run is
reproducible and a probe's samples do not depend on the other probes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer

from audit_core.generation import Request
from audit_core.probes.base import ProbeContext
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


def continuation_requests(prompts: Sequence[np.ndarray], seeds: Sequence[tuple[int, ...]], *, steps: int,
                          n: int, temperature: float, top_p: float, stops: Sequence[int]) -> list[Request]:
    """One request per prompt (its own seed): `n` continuations of up to `steps` tokens."""
    return [Request(prompt=p, steps=steps, n=n, temperature=temperature, top_p=top_p,
                    stops=tuple(stops), seed=seed) for p, seed in zip(prompts, seeds, strict=True)]


def sample_continuations(ctx: ProbeContext, requests: Sequence[Request], progress: Progress,
                         message: str) -> list[list[np.ndarray]]:
    """The requests' continuations, each cut after its stop token (kept) -> [prompt][sample]."""
    progress.advance(0.0, message)
    answers = ctx.generate(list(requests), progress)
    progress.advance(1.0, message)
    return [a.continuations() for a in answers]


def decode(tokenizer: Tokenizer, ids: np.ndarray) -> str:
    return tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)
