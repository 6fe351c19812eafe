"""Quick measurements of what a control export memorized, with onnxruntime.

These are the control's self-check, not the audit: the demo records them in
`ground_truth.json`, and the tests use them to confirm that a control model really
memorizes (or really does not) before the audit is asked to find it.

* LOSS (Yeom et al. 2018): mean log-probability of the tokens after BOS. Only the
  first `context` tokens of a record are scored here (a long record is not windowed);
  the audit does it properly.
* Extraction (Carlini et al. 2021, k-extractability): prompted with the first
  `prefix` tokens of a record (counting BOS), does greedy decoding produce the next
  `suffix` tokens verbatim? Records shorter than prefix + suffix are not eligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from audit_core.tools.controls.onnx_runner import OnnxCausalLM, full_logits, greedy_continuations

EXTRACTION_PREFIX = 24
EXTRACTION_SUFFIX = 16


@dataclass(frozen=True)
class Extraction:
    eligible: np.ndarray  # bool per record: long enough for prefix + suffix
    extracted: np.ndarray  # bool per record: suffix reproduced exactly

    @property
    def count(self) -> int:
        return int(self.extracted.sum())


def _token_ids(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return [[i for i, m in zip(e.ids, e.attention_mask) if m]
            for e in tokenizer.encode_batch(list(texts))]


def mean_token_logprobs(model: OnnxCausalLM, tokenizer: Tokenizer, texts: Sequence[str], *,
                        context: int, batch_size: int = 32) -> np.ndarray:
    """Mean log p of every token after BOS, first `context` tokens only. Higher = more member-like."""
    sequences = [ids[:context] for ids in _token_ids(tokenizer, texts)]
    scores = np.empty(len(sequences))
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start:start + batch_size]
        width = max(len(s) for s in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, seq in enumerate(batch):
            ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
        logits = full_logits(model, ids, mask).astype(np.float64)
        log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        # Position t predicts token t+1.
        target = np.take_along_axis(log_probs[:, :-1], ids[:, 1:, None], axis=-1)[..., 0]
        valid = mask[:, 1:].astype(bool)
        scores[start:start + len(batch)] = (target * valid).sum(1) / valid.sum(1)
    return scores


def extraction(model: OnnxCausalLM, tokenizer: Tokenizer, texts: Sequence[str], *,
               prefix: int = EXTRACTION_PREFIX, suffix: int = EXTRACTION_SUFFIX,
               batch_size: int = 64) -> Extraction:
    """Which records greedy decoding reproduces verbatim from their first `prefix` tokens."""
    sequences = _token_ids(tokenizer, texts)
    eligible = np.array([len(s) >= prefix + suffix for s in sequences], dtype=bool)
    extracted = np.zeros(len(sequences), dtype=bool)
    rows = np.flatnonzero(eligible)
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        prompts = np.array([sequences[r][:prefix] for r in chunk], dtype=np.int64)
        truth = np.array([sequences[r][prefix:prefix + suffix] for r in chunk], dtype=np.int64)
        generated = greedy_continuations(model, prompts, suffix)
        extracted[chunk] = (generated == truth).all(axis=1)
    return Extraction(eligible, extracted)
