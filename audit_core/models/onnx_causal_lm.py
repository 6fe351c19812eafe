"""An ONNX causal language model run by onnxruntime: logits for batches, greedy decoding.

Accepts the plain signature (`input_ids`, optional `attention_mask` -> `logits`) and the
KV-cache one (plus `position_ids`, `past_*` -> `present_*`). A KV graph scores a full
sequence with an empty past, and decodes one token per step from the cache; a plain
graph decodes by recomputing the whole sequence each step (slower, same tokens).
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from audit_core.errors import ModelError
from audit_core.models.inspection import HIDDEN_STATES, ModelInfo, require_causal_lm

_KNOWN_INPUTS = ("input_ids", "attention_mask", "position_ids")


class OnnxCausalLM:
    def __init__(self, info: ModelInfo, threads: int = 0) -> None:
        import onnxruntime as ort

        require_causal_lm(info)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # onnxruntime's warnings are not the user's business
        try:
            self.session = ort.InferenceSession(str(info.path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"onnxruntime cannot load {info.name} "
                             f"({exc.__class__.__name__}): the export is broken or uses "
                             "operators this runtime lacks") from None
        self.provider = self.session.get_providers()[0]
        inputs = {i.name: i for i in self.session.get_inputs()}
        self._past = [name for name in inputs if "past" in name]
        unknown = [n for n in inputs if n not in _KNOWN_INPUTS and n not in self._past]
        if unknown:
            raise ModelError(f"{info.name} has inputs the tool does not know how to feed: "
                             f"{', '.join(unknown)}")
        self._ids_type = np.int32 if "int32" in inputs["input_ids"].type else np.int64
        self._has_mask = "attention_mask" in inputs
        self._has_positions = "position_ids" in inputs
        outputs = [o.name for o in self.session.get_outputs()]
        self._present = [name for name in outputs if "present" in name]
        self.kv_cache = bool(self._past) and len(self._past) == len(self._present)
        self.has_hidden_states = HIDDEN_STATES in outputs  # optional; the embedding probe reads it
        if self._past and not self.kv_cache:
            raise ModelError(f"{info.name} takes past key/values but returns no matching 'present' outputs")
        self._past_shapes = {}
        for name in self._past:
            shape = inputs[name].shape
            if len(shape) != 4 or not all(isinstance(d, int) for d in (shape[1], shape[3])):
                raise ModelError(f"{info.name}: past input '{name}' must be [batch, heads, past, head_dim] "
                                 "with fixed heads and head_dim")
            self._past_shapes[name] = (shape[1], shape[3])
        if info.vocab_size is None:
            info = replace(info, vocab_size=self._probe_vocab_size())
            require_causal_lm(info)
        self.info = info
        self.vocab_size: int = info.vocab_size  # type: ignore[assignment]
        self.context_length: int = info.context_length  # type: ignore[assignment]

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """(B, T) right-padded ids and mask -> (B, T, V) float32 logits."""
        logits, _ = self._run(input_ids, attention_mask, past=None)
        return logits

    def greedy(self, prompts: np.ndarray, steps: int) -> np.ndarray:
        """Greedy continuation of equal-length prompts (B, P) -> (B, steps) token ids."""
        batch, length = prompts.shape
        if length + steps > self.context_length:
            raise ValueError("prompt plus continuation exceeds the model's context")
        out = np.empty((batch, steps), dtype=np.int64)
        if self.kv_cache:
            mask = np.ones((batch, length), dtype=np.int64)
            logits, past = self._run(prompts, mask, past=self._empty_past(batch))
            for step in range(steps):
                token = logits[:, -1, :].argmax(axis=-1)
                out[:, step] = token
                if step + 1 == steps:
                    break
                mask = np.ones((batch, length + step + 1), dtype=np.int64)
                logits, past = self._run(token[:, None], mask, past=past)
            return out
        sequence = prompts.astype(np.int64)
        for step in range(steps):
            mask = np.ones(sequence.shape, dtype=np.int64)
            logits, _ = self._run(sequence, mask, past=None)
            token = logits[:, -1, :].argmax(axis=-1)
            out[:, step] = token
            sequence = np.concatenate([sequence, token[:, None]], axis=1)
        return out

    def last_hidden_states(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """(B, T) right-padded ids and mask -> (B, D): the last layer's state at each row's
        last real token (a causal model's summary of the whole prompt)."""
        if not self.has_hidden_states:
            raise ModelError(f"{self.info.name} has no '{HIDDEN_STATES}' output")
        hidden = self.session.run([HIDDEN_STATES], self._feed(input_ids, attention_mask, None))[0]
        last = attention_mask.astype(np.int64).sum(axis=1) - 1
        return hidden[np.arange(len(last)), np.clip(last, 0, None)].astype(np.float64)

    def _run(self, input_ids: np.ndarray, mask: np.ndarray,
             past: dict[str, np.ndarray] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        results = self.session.run(None, self._feed(input_ids, mask, past))
        names = [o.name for o in self.session.get_outputs()]
        by_name = dict(zip(names, results))
        present = {p: by_name[q] for p, q in zip(self._past, self._present)}
        return by_name["logits"], present

    def _feed(self, input_ids: np.ndarray, mask: np.ndarray,
              past: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        feed: dict[str, np.ndarray] = {"input_ids": input_ids.astype(self._ids_type)}
        if self._has_mask:
            feed["attention_mask"] = mask.astype(np.int64)
        if self._has_positions:
            # Positions count real tokens only; right padding gets a harmless clipped value.
            positions = np.cumsum(mask, axis=1)[:, -input_ids.shape[1]:] - 1
            feed["position_ids"] = np.clip(positions, 0, None).astype(np.int64)
        if self.kv_cache:
            feed.update(past if past is not None else self._empty_past(input_ids.shape[0]))
        return feed

    def _empty_past(self, batch: int) -> dict[str, np.ndarray]:
        return {name: np.zeros((batch, heads, 0, dim), dtype=np.float32)
                for name, (heads, dim) in self._past_shapes.items()}

    def _probe_vocab_size(self) -> int:
        ids = np.zeros((1, 1), dtype=np.int64)
        return int(self.logits(ids, np.ones((1, 1), dtype=np.int64)).shape[-1])
