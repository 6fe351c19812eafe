"""The hidden-state output of an export agrees with torch, like its logits do.

An export with `hidden_states=True` promises the last layer's states (after the final
norm) at every position; the embedding probe reads them at each record's last real
token. A ragged right-padded batch is compared on its valid positions only, as
`parity.check_parity` does for logits.
"""

from __future__ import annotations

import numpy as np
import torch

from audit_core.tools.controls.onnx_runner import OnnxCausalLM, _empty_past
from audit_core.tools.controls.parity import ExportCheckError, GraphShape, _random_batch

_LENGTHS = [17, 9, 4]


def check_hidden_state_parity(model, onnx_model: OnnxCausalLM, *, tolerance: float,
                              seed: int = 1) -> float:
    """Largest |difference| of the hidden states; raise `ExportCheckError` past `tolerance`."""
    shape = GraphShape.from_config(model.config)
    ids, mask = _random_batch(np.random.default_rng(seed), _LENGTHS, shape.vocab_size,
                              shape.bos_id, shape.pad_id)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if onnx_model.has_kv_cache:
        batch, seq = ids.shape
        feeds["position_ids"] = np.broadcast_to(np.arange(seq, dtype=np.int64), (batch, seq)).copy()
        feeds.update(_empty_past(onnx_model, batch))
    ours = onnx_model.session.run(["hidden_states"], feeds)[0]
    with torch.no_grad():
        theirs = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                       use_cache=False, output_hidden_states=True).hidden_states[-1].numpy()
    valid = mask.astype(bool)
    diff = float(np.max(np.abs(ours[valid] - theirs[valid])))
    if not np.isfinite(diff) or diff > tolerance:
        raise ExportCheckError(f"ONNX hidden states differ from torch by up to {diff:.3g} "
                               f"(tolerance {tolerance:g})")
    return diff
