"""Checks that an ONNX export computes what the torch model computes.

Run by `export_model` before it accepts an export (the control models and
`mnemoscope convert` alike; any transformers causal LM whose config names its layers,
heads and context, GPT-2 and Llama families included):

* the input/output signature is exactly the contract (names, order, static head dims);
* logits on a ragged right-padded batch (valid positions only) and on a second shape
  agree with torch within a tolerance: a tracer that baked one shape into the graph,
  or a wrong mask or position handling, shows up here;
* for a KV export, prefill with an empty past plus token-by-token decoding in
  onnxruntime yields the same greedy tokens as a torch greedy loop, and the logits
  along the way agree too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audit_core.tools.controls.onnx_runner import (
    OnnxCausalLM,
    full_logits,
    greedy_continuations,
    greedy_recomputed,
)

GREEDY_PROMPTS = 3
GREEDY_PROMPT_LENGTH = 12
GREEDY_NEW_TOKENS = 20
# The long ragged row covers the whole context up to this length; a real model's 8k
# context would cost minutes of torch time for no more evidence than 256 positions give.
MAX_CHECKED_CONTEXT = 256
_FIRST_ORDINARY_ID = 4  # ids 0..3 are [PAD] [UNK] [BOS] [EOS] in the controls' vocabulary


class ExportCheckError(RuntimeError):
    """The ONNX file does not behave like the torch model; the export was discarded."""


@dataclass(frozen=True)
class ParityResult:
    max_abs_logit_diff: float
    shapes_checked: tuple[tuple[int, int], ...]
    greedy_prompts: int  # 0 when the export has no KV cache
    greedy_new_tokens: int
    greedy_identical: bool | None  # None when not checked


@dataclass(frozen=True)
class GraphShape:
    """What the ONNX contract needs from a transformers config, whatever the family.

    `n_kv_head` is the number of key/value heads (fewer than `n_head` under grouped-query
    attention, as in Llama); the past/present tensors have that many heads.
    """

    architecture: str
    n_layer: int
    n_head: int
    n_kv_head: int
    head_dim: int
    hidden_size: int
    context: int
    vocab_size: int
    bos_id: int | None
    pad_id: int

    @classmethod
    def from_config(cls, config) -> GraphShape:
        # A Mamba has no attention heads and no position table: its "heads" are the
        # SSM's (Mamba2) or one, and its context the n_positions the export gave it.
        n_head = int(getattr(config, "num_attention_heads", None)
                     or getattr(config, "num_heads", None) or 1)
        n_kv_head = int(getattr(config, "num_key_value_heads", None) or n_head)
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // n_head
        architectures = getattr(config, "architectures", None) or [type(config).__name__]
        pad = config.pad_token_id if config.pad_token_id is not None else config.eos_token_id
        if isinstance(pad, (list, tuple)):
            pad = pad[0] if pad else None
        bos = config.bos_token_id
        if isinstance(bos, (list, tuple)):
            bos = bos[0] if bos else None
        return cls(architecture=str(architectures[0]), n_layer=int(config.num_hidden_layers),
                   n_head=n_head, n_kv_head=n_kv_head, head_dim=int(head_dim),
                   hidden_size=int(config.hidden_size),
                   context=int(getattr(config, "max_position_embeddings", None)
                               or config.n_positions), vocab_size=int(config.vocab_size),
                   bos_id=None if bos is None else int(bos), pad_id=int(pad or 0))


def expected_signature(n_layer: int, kv_cache: bool,
                       hidden_states: bool = False) -> tuple[list[str], list[str]]:
    """Input and output names of the contract, in order.

    The optional `hidden_states` output (the last layer's states, [batch, seq, hidden])
    comes last, so readers that pick outputs by position before it are unaffected.
    """
    inputs, outputs = ["input_ids", "attention_mask"], ["logits"]
    if kv_cache:
        inputs.append("position_ids")
        for i in range(n_layer):
            inputs += [f"past_key_{i}", f"past_value_{i}"]
            outputs += [f"present_key_{i}", f"present_value_{i}"]
    if hidden_states:
        outputs.append("hidden_states")
    return inputs, outputs


def check_signature(onnx_model: OnnxCausalLM, config, kv_cache: bool,
                    hidden_states: bool = False) -> None:
    shape = GraphShape.from_config(config)
    inputs, outputs = expected_signature(shape.n_layer, kv_cache, hidden_states)
    got_inputs = [i.name for i in onnx_model.session.get_inputs()]
    got_outputs = [o.name for o in onnx_model.session.get_outputs()]
    if got_inputs != inputs or got_outputs != outputs:
        raise ExportCheckError(f"signature mismatch: inputs {got_inputs}, outputs {got_outputs}; "
                               f"expected {inputs} -> {outputs}")
    expected = (shape.n_kv_head, shape.head_dim)
    if kv_cache and (onnx_model.n_head, onnx_model.head_dim) != expected:
        raise ExportCheckError(f"past shapes have n_head={onnx_model.n_head}, head_dim="
                               f"{onnx_model.head_dim}; expected {expected[0]}, {expected[1]}")


def _random_batch(rng: np.random.Generator, lengths: list[int], vocab_size: int,
                  bos_id: int | None, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(lengths)
    ids = np.full((len(lengths), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(lengths), width), dtype=np.int64)
    first = 0 if bos_id is None else 1  # a model without BOS starts on an ordinary token
    for row, length in enumerate(lengths):
        if bos_id is not None:
            ids[row, 0] = bos_id
        ids[row, first:length] = rng.integers(_FIRST_ORDINARY_ID, vocab_size, size=length - first)
        mask[row, :length] = 1
    return ids, mask


def _torch_logits(model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                    use_cache=False)
    return out.logits.numpy()


def _max_diff_on_valid(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    valid = mask.astype(bool)
    return float(np.max(np.abs(a[valid] - b[valid])))


def _torch_greedy(model, prompts: np.ndarray, new_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain greedy loop recomputing the whole prefix each step (no cache at all)."""
    current = torch.from_numpy(prompts)
    tokens, step_logits = [], []
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(input_ids=current, use_cache=False).logits[:, -1, :]
            next_ids = logits.argmax(dim=-1)
            tokens.append(next_ids.numpy())
            step_logits.append(logits.numpy())
            current = torch.cat([current, next_ids[:, None]], dim=1)
    return np.stack(tokens, axis=1), np.stack(step_logits, axis=1)


def check_parity(model, onnx_model: OnnxCausalLM, *, tolerance: float,
                 seed: int = 0, greedy_without_cache: bool = False) -> ParityResult:
    """Compare ONNX against torch; raise `ExportCheckError` past `tolerance`.

    `greedy_without_cache`: an export with no cache (a Mamba's) also decodes greedily,
    recomputing the prefix each step, and must give torch's tokens.
    """
    shape = GraphShape.from_config(model.config)
    rng = np.random.default_rng(seed)
    context = min(shape.context, MAX_CHECKED_CONTEXT)
    # A full-context row exercises every position embedding; the short rows are padded.
    shapes = [[context, context // 3 + 1, 5], [17, 17]]
    diffs = []
    for lengths in shapes:
        ids, mask = _random_batch(rng, lengths, shape.vocab_size, shape.bos_id, shape.pad_id)
        diffs.append(_max_diff_on_valid(full_logits(onnx_model, ids, mask),
                                        _torch_logits(model, ids, mask), mask))
    checked = tuple((len(lengths), max(lengths)) for lengths in shapes)
    greedy_identical, n_prompts, n_new = None, 0, 0
    if onnx_model.has_kv_cache or greedy_without_cache:
        n_prompts, n_new = GREEDY_PROMPTS, min(GREEDY_NEW_TOKENS, context - GREEDY_PROMPT_LENGTH)
        prompts, _ = _random_batch(rng, [GREEDY_PROMPT_LENGTH] * n_prompts, shape.vocab_size,
                                   shape.bos_id, shape.pad_id)
        if onnx_model.has_kv_cache:
            ort_ids, ort_logits = greedy_continuations(onnx_model, prompts, n_new,
                                                       return_logits=True)
        else:
            ort_ids, ort_logits = greedy_recomputed(onnx_model, prompts, n_new)
        torch_ids, torch_logits = _torch_greedy(model, prompts, n_new)
        greedy_identical = bool(np.array_equal(ort_ids, torch_ids))
        if greedy_identical:  # same prefixes, so the step logits are comparable
            diffs.append(float(np.max(np.abs(ort_logits - torch_logits))))
    max_diff = max(diffs)
    if not np.isfinite(max_diff) or max_diff > tolerance:
        raise ExportCheckError(f"ONNX logits differ from torch by up to {max_diff:.3g} "
                               f"(tolerance {tolerance:g}) on shapes {checked}")
    if greedy_identical is False:
        raise ExportCheckError("greedy decoding with the ONNX graph differs from torch "
                               f"greedy decoding on {n_prompts} prompts")
    return ParityResult(max_diff, checked, n_prompts, n_new, greedy_identical)

