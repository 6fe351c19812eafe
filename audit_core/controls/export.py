"""Export a control model to the ONNX folder the audit engine reads.

The folder holds `model.onnx` (weights inside the file), `tokenizer.json`,
`config.json` (the HF config; the audit reads `n_positions` from it to window long
records) and `manifest.json` (what was exported and how it was verified).

The ONNX interface is a contract with the audit engine:

* `kv_cache=True`: inputs `input_ids` int64 [batch, seq], `attention_mask` int64
  [batch, total] (total = past + seq), `position_ids` int64 [batch, seq], then per
  layer i `past_key_{i}`, `past_value_{i}` float32 [batch, n_head, past, head_dim];
  outputs `logits` float32 [batch, seq, vocab], then `present_key_{i}`,
  `present_value_{i}` [batch, n_head, total, head_dim]. n_head and head_dim are
  static; batch/seq/past/total dynamic. Scoring a whole sequence uses past length 0.
* `kv_cache=False`: inputs `input_ids`, `attention_mask`; output `logits`.

Nothing is accepted unverified: the export is written to a temporary folder next to
`out_dir`, checked against torch with onnxruntime (`parity.check_parity`), and only
then renamed into place. On any failure the temporary folder is removed and an
existing `out_dir` is left as it was.

We use the legacy TorchScript exporter (`dynamo=False`, opset 17): it keeps the axis
names, exports in about a second, and needs no onnxscript at build time.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import onnxruntime
import torch
import transformers
from tokenizers import Tokenizer
from transformers import DynamicCache

from audit_core.controls.onnx_runner import open_model
from audit_core.controls.parity import ExportCheckError, check_parity, check_signature, expected_signature
from audit_core.controls.tokenizer import save_tokenizer
from audit_core.fingerprint import file_sha256

OPSET = 17
MAX_ABS_LOGIT_DIFF = 1e-4
MODEL_FILENAME = "model.onnx"
MANIFEST_FILENAME = "manifest.json"
# A tied embedding stored twice would roughly double the file; allow graph overhead only.
_MAX_FILE_TO_PARAMETER_BYTES = 1.25

__all__ = ["ExportCheckError", "ExportReport", "export_model"]


@dataclass(frozen=True)
class ExportReport:
    out_dir: Path
    kv_cache: bool
    opset: int
    max_abs_logit_diff: float
    greedy_identical: bool | None  # None when the export has no KV cache
    onnx_bytes: int
    onnx_sha256: str
    parameters: int


class _LogitsOnly(torch.nn.Module):
    """Graph returns just logits; without use_cache=False it would return a Cache."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          use_cache=False).logits


class _WithKVCache(torch.nn.Module):
    """Flat past/present tensors around transformers' DynamicCache (transformers 5.x)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1])
                                             for i in range(len(past) // 2)])
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, past_key_values=cache, use_cache=True)
        presents = [t for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]
        return (out.logits, *presents)


def _export_graph(model, path: Path, kv_cache: bool) -> None:
    config = model.config
    inputs, outputs = expected_signature(config.n_layer, kv_cache)
    batch, seq = 2, 4
    input_ids = torch.full((batch, seq), config.bos_token_id, dtype=torch.long)
    if kv_cache:
        # Example past length 3: 0 or 1 would invite the tracer to specialise on it.
        past_len, head_dim = 3, config.n_embd // config.n_head
        wrapper = _WithKVCache(model).eval()
        past = [torch.zeros(batch, config.n_head, past_len, head_dim)
                for _ in range(2 * config.n_layer)]
        args = (input_ids, torch.ones(batch, past_len + seq, dtype=torch.long),
                torch.arange(past_len, past_len + seq).expand(batch, seq), *past)
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
                "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
        axes.update({name: {0: "batch", 2: "past"} for name in inputs if name.startswith("past_")})
        axes.update({name: {0: "batch", 2: "total"} for name in outputs
                     if name.startswith("present_")})
    else:
        wrapper = _LogitsOnly(model).eval()
        args = (input_ids, torch.ones(batch, seq, dtype=torch.long))
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                "logits": {0: "batch", 1: "seq"}}
    with warnings.catch_warnings(), torch.no_grad():
        # Constant folding is off on purpose: it would fold the transpose of the tied
        # input embedding into a second [n_embd, vocab] initializer and store the
        # weight twice. onnxruntime folds it in memory when the session loads.
        # The legacy exporter's deprecation notice and the tracer's "converting a tensor
        # to a Python value" warnings are expected; parity checking is what tells us the
        # traced graph is right.
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, str(path), dynamo=False, opset_version=OPSET,
                          input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          do_constant_folding=False)


def _write_manifest(folder: Path, report: ExportReport, parity, config) -> None:
    inputs, outputs = expected_signature(config.n_layer, report.kv_cache)
    manifest = {
        "format": "mnemoscope-control-export/1",
        "files": [MODEL_FILENAME, "tokenizer.json", "config.json", MANIFEST_FILENAME],
        "model": {"architecture": "GPT2LMHeadModel", "parameters": report.parameters,
                  "n_layer": config.n_layer, "n_head": config.n_head,
                  "head_dim": config.n_embd // config.n_head, "n_embd": config.n_embd,
                  "n_positions": config.n_positions, "vocab_size": config.vocab_size},
        "onnx": {"file": MODEL_FILENAME, "bytes": report.onnx_bytes,
                 "sha256": report.onnx_sha256, "opset": report.opset,
                 "exporter": "torch.onnx.export(dynamo=False)", "constant_folding": False,
                 "tied_embedding_stored_once": True, "kv_cache": report.kv_cache,
                 "inputs": inputs, "outputs": outputs, "weights": "inside model.onnx"},
        "verification": {
            "runtime": f"onnxruntime {onnxruntime.__version__} CPUExecutionProvider",
            "max_abs_logit_diff": report.max_abs_logit_diff,
            "tolerance": MAX_ABS_LOGIT_DIFF,
            "shapes_checked": [list(s) for s in parity.shapes_checked],
            "ragged_right_padded_batch": True,
            "greedy_prompts": parity.greedy_prompts,
            "greedy_new_tokens": parity.greedy_new_tokens,
            "greedy_identical_to_torch": parity.greedy_identical,
        },
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "onnxruntime": onnxruntime.__version__},
    }
    (folder / MANIFEST_FILENAME).write_text(json.dumps(manifest, indent=2) + "\n")


def _replace_folder(new: Path, target: Path) -> None:
    """Move `new` to `target`; an older `target` is removed only once `new` is in place."""
    if not target.exists():
        new.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        new.rename(target)
    except OSError:
        old.rename(target)
        raise
    shutil.rmtree(old)


def export_model(model, tokenizer: Tokenizer, out_dir: str | Path, *, kv_cache: bool = True,
                 tolerance: float = MAX_ABS_LOGIT_DIFF) -> ExportReport:
    """Export, verify and install `model` + `tokenizer` as the folder `out_dir`.

    Raises `ExportCheckError` (and leaves nothing behind) if onnxruntime disagrees with
    torch by more than `tolerance` in any logit, if greedy KV decoding differs, or if
    the file is much larger than the weights (a duplicated tied embedding).
    """
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the installed folder should not be
    try:
        model.eval()
        onnx_path = staging / MODEL_FILENAME
        _export_graph(model, onnx_path, kv_cache)
        if any(p.name != MODEL_FILENAME for p in staging.iterdir()):
            raise ExportCheckError("the exporter wrote external weight files; expected one file")
        parameters = sum(p.numel() for p in model.parameters())  # tied weights counted once
        onnx_bytes = onnx_path.stat().st_size
        if onnx_bytes > _MAX_FILE_TO_PARAMETER_BYTES * 4 * parameters:
            raise ExportCheckError(f"{MODEL_FILENAME} is {onnx_bytes} bytes for {parameters} "
                                   "float32 parameters: are tied weights stored twice?")
        onnx_model = open_model(onnx_path)
        check_signature(onnx_model, model.config, kv_cache)
        parity = check_parity(model, onnx_model, tolerance=tolerance)
        del onnx_model  # release the file before renaming the folder
        save_tokenizer(tokenizer, staging)
        model.config.to_json_file(staging / "config.json", use_diff=False)
        report = ExportReport(out_dir, kv_cache, OPSET, parity.max_abs_logit_diff,
                              parity.greedy_identical, onnx_bytes, file_sha256(onnx_path), parameters)
        _write_manifest(staging, report, parity, model.config)
        _replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report

