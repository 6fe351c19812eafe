"""A minimal onnxruntime driver for the control models' ONNX contract.

The audit engine has its own, complete adapter in `audit_core.models`; this one exists
so that `controls` can check its own exports (parity with torch, greedy decoding) and
measure what the demo memorized, without depending on the code it is meant to test.

The contract (see `export.py`): inputs `input_ids`, `attention_mask` and, for a KV
export, `position_ids` and `past_key_{i}`/`past_value_{i}` of shape
(batch, n_head, past, head_dim); outputs `logits` and, for a KV export,
`present_key_{i}`/`present_value_{i}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

ORT_THREADS = 2


@dataclass(frozen=True)
class OnnxCausalLM:
    """An open session plus what the input signature says about its KV cache."""

    session: ort.InferenceSession
    n_layer: int  # 0 when the export has no KV cache
    n_head: int
    head_dim: int

    @property
    def has_kv_cache(self) -> bool:
        return self.n_layer > 0


def open_model(onnx_path: str | Path) -> OnnxCausalLM:
    options = ort.SessionOptions()
    options.intra_op_num_threads = ORT_THREADS
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    past_keys = [i for i in session.get_inputs() if i.name.startswith("past_key_")]
    if not past_keys:
        return OnnxCausalLM(session, 0, 0, 0)
    _, n_head, _, head_dim = past_keys[0].shape
    return OnnxCausalLM(session, len(past_keys), int(n_head), int(head_dim))


def _empty_past(model: OnnxCausalLM, batch: int) -> dict[str, np.ndarray]:
    empty = np.zeros((batch, model.n_head, 0, model.head_dim), dtype=np.float32)
    return {f"past_{kind}_{i}": empty for i in range(model.n_layer) for kind in ("key", "value")}


def full_logits(model: OnnxCausalLM, input_ids: np.ndarray,
                attention_mask: np.ndarray) -> np.ndarray:
    """Logits (batch, seq, vocab) for right-padded sequences, scored from scratch."""
    feeds = {"input_ids": input_ids.astype(np.int64),
             "attention_mask": attention_mask.astype(np.int64)}
    if model.has_kv_cache:
        batch, seq = input_ids.shape
        # Right padding: positions of the valid tokens are just 0..len-1.
        feeds["position_ids"] = np.broadcast_to(np.arange(seq, dtype=np.int64), (batch, seq)).copy()
        feeds.update(_empty_past(model, batch))
    return model.session.run(["logits"], feeds)[0]


def greedy_continuations(model: OnnxCausalLM, prompts: np.ndarray, new_tokens: int,
                         *, return_logits: bool = False):
    """Greedy continuations of equal-length prompts (batch, prompt_len), KV-cached.

    Prefill runs with an empty past (batch, n_head, 0, head_dim); each later step feeds
    one token and the presents of the previous step. Returns (batch, new_tokens) ids,
    and with `return_logits` also the (batch, new_tokens, vocab) logits they came from.
    """
    if not model.has_kv_cache:
        raise ValueError("greedy_continuations needs an export with a KV cache")
    prompts = np.asarray(prompts, dtype=np.int64)
    batch, length = prompts.shape
    output_names = [o.name for o in model.session.get_outputs()]
    feeds = {"input_ids": prompts,
             "attention_mask": np.ones((batch, length), dtype=np.int64),
             "position_ids": np.broadcast_to(np.arange(length, dtype=np.int64),
                                             (batch, length)).copy(),
             **_empty_past(model, batch)}
    tokens, step_logits = [], []
    for step in range(new_tokens):
        outputs = dict(zip(output_names, model.session.run(output_names, feeds)))
        logits = outputs["logits"][:, -1, :]
        next_ids = logits.argmax(axis=-1).astype(np.int64)
        tokens.append(next_ids)
        step_logits.append(logits)
        total = length + step + 1
        feeds = {"input_ids": next_ids[:, None],
                 "attention_mask": np.ones((batch, total), dtype=np.int64),
                 "position_ids": np.full((batch, 1), total - 1, dtype=np.int64)}
        for name, value in outputs.items():
            if name.startswith("present_"):
                feeds["past_" + name.removeprefix("present_")] = value
    ids = np.stack(tokens, axis=1) if tokens else np.zeros((batch, 0), dtype=np.int64)
    if return_logits:
        return ids, np.stack(step_logits, axis=1)
    return ids


def greedy_recomputed(model: OnnxCausalLM, prompts: np.ndarray, new_tokens: int):
    """Greedy continuations of equal-length prompts, each step scoring the whole prefix.

    For exports without a cache (the recurrent Mamba family): returns the new ids and the
    logits they came from, as `greedy_continuations(..., return_logits=True)` does.
    """
    current = np.asarray(prompts, dtype=np.int64)
    tokens, step_logits = [], []
    for _ in range(new_tokens):
        logits = full_logits(model, current, np.ones_like(current))[:, -1, :]
        next_ids = logits.argmax(axis=-1).astype(np.int64)
        tokens.append(next_ids)
        step_logits.append(logits)
        current = np.concatenate([current, next_ids[:, None]], axis=1)
    return np.stack(tokens, axis=1), np.stack(step_logits, axis=1)
