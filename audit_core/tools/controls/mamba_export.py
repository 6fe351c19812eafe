"""What it takes to export transformers' Mamba and Mamba2 causal LMs to ONNX.

Both run on their pure-torch path (no `mamba_ssm` kernels on a CPU). Tried on
transformers 5.24 / torch 2.13 with the legacy TorchScript exporter (opset 17), the same
one the other exports use (the dynamo exporter needs onnxscript, which is not installed):

* Mamba2's chunked scan traces well, except that two `permute` calls with negative
  axes become Transpose nodes with negative `perm` entries, which ONNX forbids and
  onnxruntime refuses at load. `fix_negative_perms` rewrites them to the positive axes
  (same permutation: the rank is the perm's length).
* Mamba (v1)'s reference selective scan is a Python loop over time: the tracer unrolls
  it to the example's length, and the graph fails on any other length.
  `export_friendly_scan` swaps in, for the export only, the same recurrence in closed
  form (h_t = sum over s <= t of exp(sum of dt*A over (s, t]) * dt_s B_s x_s), computed
  with the masked cumulative sum Mamba2's own chunked scan uses, so the graph has no
  loop. It costs memory quadratic in the sequence length, which the audit's windows
  bound; the parity check compares it against transformers' own loop.

The export has no recurrent-state cache: one graph `input_ids` + `attention_mask` ->
`logits`, and generation recomputes the prefix at each step. A state cache would need
graph inputs for each layer's convolution window and SSM state, and an engine adapter
that feeds them instead of past keys/values; recomputing gives the same tokens (the
parity check runs greedy decoding both ways) at a cost the audit's short continuations
afford.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch

RECURRENT_MODEL_TYPES = ("mamba", "mamba2")
# A Mamba has no position table; the audit windows records to this many tokens.
DEFAULT_CONTEXT = 1024


def is_recurrent(config) -> bool:
    return getattr(config, "model_type", None) in RECURRENT_MODEL_TYPES


def set_context(config, context: int = DEFAULT_CONTEXT) -> None:
    """Give a Mamba config the `n_positions` the audit reads from config.json."""
    if getattr(config, "n_positions", None) is None:
        config.n_positions = context


def fix_negative_perms(onnx_path: Path) -> int:
    """Rewrite Transpose perms with negative axes in place; returns how many."""
    import onnx

    proto = onnx.load(str(onnx_path))
    fixed = 0
    for node in proto.graph.node:
        if node.op_type != "Transpose":
            continue
        for attribute in node.attribute:
            if attribute.name == "perm" and any(axis < 0 for axis in attribute.ints):
                rank = len(attribute.ints)
                axes = [axis + rank if axis < 0 else axis for axis in attribute.ints]
                del attribute.ints[:]
                attribute.ints.extend(axes)
                fixed += 1
    if fixed:
        onnx.save(proto, str(onnx_path))
    return fixed


def _segment_sum(x: torch.Tensor) -> torch.Tensor:
    """[..., L] -> [..., L, L] with out[..., t, s] = sum of x over (s, t], -inf for s > t."""
    length = x.size(-1)
    x = x[..., None].expand(*x.size(), length)
    below = torch.tril(torch.ones(length, length, dtype=torch.bool, device=x.device), diagonal=-1)
    x = x.masked_fill(~below, 0)
    sums = torch.cumsum(x, dim=-2)
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool, device=x.device), diagonal=0)
    return sums.masked_fill(~causal, float("-inf"))


def closed_form_selective_scan(hidden_states, dt, A, B, C, D=None, z=None, delta_bias=None,
                               delta_softplus=False, return_last_state=False, **_ignored):
    """transformers' `mamba_selective_scan` (v1) without a loop over time.

    Shapes as there: hidden_states and dt [batch, d, L], A [d, n], B and C [batch, n, L].
    """
    if delta_bias is not None:
        dt = dt + delta_bias.to(dt.dtype)[..., None]
    if delta_softplus:
        dt = torch.nn.functional.softplus(dt)
    log_decay = (A[None, :, None, :] * dt[:, :, :, None]).permute(0, 1, 3, 2)  # [b, d, n, L]
    weights = torch.exp(_segment_sum(log_decay))                                # [b, d, n, t, s]
    inputs = dt[:, :, None, :] * B[:, None, :, :] * hidden_states[:, :, None, :]  # [b, d, n, s]
    states = torch.einsum("bdnts,bdns->bdnt", weights, inputs)                  # h_t per (d, n)
    out = torch.einsum("bdnt,bnt->bdt", states, C)
    if D is not None:
        out = out + hidden_states * D[None, :, None]
    if z is not None:
        out = out * torch.nn.functional.silu(z)
    if return_last_state:
        return out, states[..., -1]
    return out


@contextlib.contextmanager
def export_friendly_scan(config) -> Iterator[None]:
    """While exporting a Mamba (v1), its selective scan is the loop-free closed form."""
    if getattr(config, "model_type", None) != "mamba":
        yield
        return
    from transformers.models.mamba import modeling_mamba

    original = modeling_mamba.mamba_selective_scan
    modeling_mamba.mamba_selective_scan = closed_form_selective_scan
    try:
        yield
    finally:
        modeling_mamba.mamba_selective_scan = original


def quadratic_mamba2_scan(hidden_states, dt, A, B, C, chunk_size=None, D=None, dt_bias=None,
                          initial_states=None, dt_softplus=False,
                          dt_limit=(0.0, float("inf")), return_final_states=False, **_ignored):
    """transformers' `mamba2_chunk_scan` (Mamba2's SSD) as one block: y = (L * C B^T) x.

    The chunked algorithm's result for a sequence that fits one chunk, for any length:
    a few batched matrix products instead of the reference path's broadcast products,
    several times faster for the short records the EHR control trains on. No initial or
    final states (no cache). Shapes as there: hidden_states [b, L, h, p], dt [b, L, h],
    A [h], B and C [b, L, g, n].
    """
    if initial_states is not None or return_final_states:
        raise NotImplementedError("the quadratic Mamba2 scan keeps no recurrent state")
    heads = hidden_states.shape[2]
    if dt_bias is not None:
        dt = dt + dt_bias.to(dt.dtype)
    if dt_softplus:
        dt = torch.nn.functional.softplus(dt)
    dt = torch.clamp(dt, min=dt_limit[0], max=dt_limit[1])
    x = hidden_states.float()
    B = B.float().repeat_interleave(heads // B.shape[2], dim=2)
    C = C.float().repeat_interleave(heads // C.shape[2], dim=2)
    decay = torch.exp(_segment_sum((A.float() * dt).permute(0, 2, 1)))  # [b, h, t, s]
    scores = torch.einsum("bthn,bshn->bhts", C, B) * decay
    y = torch.einsum("bhts,bshp->bthp", scores, x * dt[..., None])
    if D is not None:
        y = y + D[:, None] * x
    return y


@contextlib.contextmanager
def quadratic_mamba2() -> Iterator[None]:
    """Mamba2 layers run `quadratic_mamba2_scan` (training and exporting the EHR control)."""
    from transformers.models.mamba2 import modeling_mamba2

    original = modeling_mamba2.mamba2_chunk_scan
    modeling_mamba2.mamba2_chunk_scan = quadratic_mamba2_scan
    try:
        yield
    finally:
        modeling_mamba2.mamba2_chunk_scan = original
