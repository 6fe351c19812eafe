"""A control model exported again without a KV cache, for measuring what such an export
costs (issue 21: `torch.onnx.export` of a plain forward gives input_ids/attention_mask ->
logits, and generation then recomputes the whole sequence at every step).

    python -m audit_core.tools.controls.kvless MODEL_DIR OUT_DIR

The committed controls keep their ONNX export only (no torch checkpoint, and retraining the
notes control takes about 20 minutes), but a control export names its weights as the torch
model's parameters (`model.transformer.h.0.attn.c_attn.weight`, ...). So the GPT-2 is
rebuilt from config.json and those initializers (plain tensors read from the ONNX file:
no pickle), checked to give the export's own logits, and exported with
`export_model(kv_cache=False)`, which verifies the new graph against torch as every
control export is verified. Same weights, same tokenizer, same outputs; only the cache
differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from audit_core.tools.controls.export import MODEL_FILENAME, ExportReport, export_model

WRAPPER_PREFIX = "model."  # the export wrapper's attribute holding the GPT-2 (export.py)
TIED = "lm_head.weight"  # tied to the input embedding, stored once in the export


def rebuild_gpt2(model_dir: Path) -> GPT2LMHeadModel:
    """The torch GPT-2 of a control export, from its config.json and its ONNX weights."""
    import onnx
    from onnx import numpy_helper

    config = GPT2Config.from_json_file(str(model_dir / "config.json"))
    model = GPT2LMHeadModel(config)
    graph = onnx.load(str(model_dir / MODEL_FILENAME)).graph
    weights = {t.name.removeprefix(WRAPPER_PREFIX): torch.from_numpy(numpy_helper.to_array(t).copy())
               for t in graph.initializer if t.name.startswith(WRAPPER_PREFIX)}
    expected = {name for name in model.state_dict() if name != TIED and not name.endswith(".attn.bias")
                and not name.endswith(".attn.masked_bias")}
    missing = expected - set(weights)
    if missing:
        raise ValueError(f"{model_dir / MODEL_FILENAME} lacks the weights {sorted(missing)[:3]}: "
                         "not a control export of a GPT-2")
    model.load_state_dict(weights, strict=False)
    model.tie_weights()
    return model.eval()


def export_without_kv_cache(model_dir: str | Path, out_dir: str | Path) -> ExportReport:
    """`model_dir` (a GPT-2 control export with a KV cache) again, without one, in `out_dir`;
    refused when the rebuilt model does not give the export's logits."""
    model_dir = Path(model_dir)
    model = rebuild_gpt2(model_dir)
    _check_same_logits(model, model_dir)
    return export_model(model, model_dir / "tokenizer.json", out_dir, kv_cache=False)


def _check_same_logits(model: GPT2LMHeadModel, model_dir: Path) -> None:
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM

    onnx_model = OnnxCausalLM(inspect_model(model_dir), threads=1)
    ids = np.random.default_rng(0).integers(0, model.config.vocab_size, (2, 16))
    mask = np.ones_like(ids)
    with torch.no_grad():
        torch_logits = model(input_ids=torch.from_numpy(ids)).logits.numpy()
    gap = float(np.abs(onnx_model.logits(ids, mask) - torch_logits).max())
    if gap > 1e-3:
        raise ValueError(f"the GPT-2 rebuilt from {model_dir} differs from its export by {gap:.2g} "
                         "in a logit: not rebuilt correctly")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="a GPT-2 control export with a KV cache")
    parser.add_argument("out_dir", type=Path, help="folder for the export without one")
    args = parser.parse_args(argv)
    report = export_without_kv_cache(args.model_dir, args.out_dir)
    print(f"{report.out_dir}: no KV cache, max |logit difference| {report.max_abs_logit_diff:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
