"""Export a transformers causal LM to the ONNX folder the audit engine reads.

Used for the control models (demo, negative control, tests) and by `mnemoscope convert`
for a hospital's own Hugging Face models; the contract below is family-agnostic
(`parity.GraphShape` reads layers, key/value heads and head size from the config, so
GPT-2 and Llama-style grouped-query attention both fit).

The folder holds `model.onnx` (weights inside the file), `tokenizer.json`,
`config.json` (the HF config; the audit reads `n_positions` from it to window long
records) and `manifest.json` (what was exported and how it was verified).

The ONNX interface is a contract with the audit engine:

* `kv_cache=True`: inputs `input_ids` int64 [batch, seq], `attention_mask` int64
  [batch, total] (total = past + seq), `position_ids` int64 [batch, seq], then per
  layer i `past_key_{i}`, `past_value_{i}` float32 [batch, n_kv_head, past, head_dim];
  outputs `logits` float32 [batch, seq, vocab], then `present_key_{i}`,
  `present_value_{i}` [batch, n_kv_head, total, head_dim]. n_kv_head and head_dim are
  static; batch/seq/past/total dynamic. Scoring a whole sequence uses past length 0.
* `kv_cache=False`: inputs `input_ids`, `attention_mask`; output `logits`.

Nothing is accepted unverified: the export is written to a temporary folder next to
`out_dir`, checked against torch with onnxruntime (`parity.check_parity`), and only
then renamed into place. On any failure the temporary folder is removed and an
existing `out_dir` is left as it was.

We use the legacy TorchScript exporter (`dynamo=False`, opset 17): it keeps the axis
names, exports in about a second, and needs no onnxscript at build time.

Weights stay inside `model.onnx` while they fit protobuf's 2 GB limit; past
`EXTERNAL_DATA_BYTES` of float32 weights they go to one `model.onnx.data` file beside it
(the engine reads external data only from inside the model folder).

While the weights are inside `model.onnx`, the exporter's shape arithmetic is folded
(`models/shape_folding.py`: same compute nodes, bit-identical outputs, about 2.5x fewer
nodes), which makes decoding one token at a time faster; the manifest records whether.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import onnxruntime
import torch
import transformers
from tokenizers import Tokenizer
from transformers import DynamicCache

from audit_core.fingerprint import file_sha256
from audit_core.models.shape_folding import fold_export_file
from audit_core.tools.controls.hidden_parity import check_hidden_state_parity
from audit_core.tools.controls.mamba_export import (
    export_friendly_scan,
    fix_negative_perms,
    is_recurrent,
)
from audit_core.tools.controls.onnx_runner import open_model
from audit_core.tools.controls.parity import (
    ExportCheckError,
    GraphShape,
    check_parity,
    check_signature,
    expected_signature,
)
from audit_core.tools.controls.tokenizer import save_tokenizer

OPSET = 17
MAX_ABS_LOGIT_DIFF = 1e-4
MODEL_FILENAME = "model.onnx"
EXTERNAL_DATA_FILENAME = "model.onnx.data"
MANIFEST_FILENAME = "manifest.json"
CONTROL_FORMAT = "mnemoscope-control-export/1"
# Protobuf refuses messages over 2 GB; keep a margin for the graph itself.
EXTERNAL_DATA_BYTES = 1_800_000_000
# A tied embedding stored twice would roughly double the file; allow graph overhead only
# (a fixed share per layer, which dominates for the tiniest test models).
_MAX_FILE_TO_PARAMETER_BYTES = 1.25
_GRAPH_BYTES_PER_LAYER = 65_536
# Mamba2's traced chunked scan is ~850 nodes a layer (attention layers: ~100).
_RECURRENT_GRAPH_BYTES_PER_LAYER = 524_288

__all__ = ["ExportCheckError", "ExportReport", "export_model"]


@dataclass(frozen=True)
class ExportReport:
    out_dir: Path
    kv_cache: bool
    opset: int
    max_abs_logit_diff: float
    greedy_identical: bool | None  # None when the export has no KV cache
    onnx_bytes: int  # model.onnx plus its external data file, if any
    onnx_sha256: str
    parameters: int
    shapes_checked: tuple[tuple[int, int], ...] = ()
    files: tuple[str, ...] = ()
    tolerance: float = MAX_ABS_LOGIT_DIFF
    hidden_states: bool = False  # the graph also outputs the last layer's hidden states
    shape_arithmetic_folded: bool = False  # models/shape_folding.py rewrote the graph


class _LogitsOnly(torch.nn.Module):
    """Graph returns just logits; without use_cache=False it would return a Cache."""

    def __init__(self, model, hidden_states: bool = False):
        super().__init__()
        self.model = model
        self.hidden_states = hidden_states

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         use_cache=False, output_hidden_states=self.hidden_states)
        # The last entry is the final layer after its closing norm: what the LM head reads.
        return (out.logits, out.hidden_states[-1]) if self.hidden_states else out.logits


class _WithKVCache(torch.nn.Module):
    """Flat past/present tensors around transformers' DynamicCache (transformers 5.x)."""

    def __init__(self, model, hidden_states: bool = False):
        super().__init__()
        self.model = model
        self.hidden_states = hidden_states

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1])
                                             for i in range(len(past) // 2)])
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, past_key_values=cache, use_cache=True,
                         output_hidden_states=self.hidden_states)
        presents = [t for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]
        hidden = (out.hidden_states[-1],) if self.hidden_states else ()
        return (out.logits, *presents, *hidden)


def _export_graph(model, path: Path, kv_cache: bool, hidden_states: bool = False) -> None:
    shape = GraphShape.from_config(model.config)
    inputs, outputs = expected_signature(shape.n_layer, kv_cache, hidden_states)
    batch, seq = 2, 4
    first = shape.bos_id if shape.bos_id is not None else shape.pad_id
    input_ids = torch.full((batch, seq), first, dtype=torch.long)
    if kv_cache:
        # Example past length 3: 0 or 1 would invite the tracer to specialise on it.
        past_len = 3
        wrapper: torch.nn.Module = _WithKVCache(model, hidden_states).eval()
        past = [torch.zeros(batch, shape.n_kv_head, past_len, shape.head_dim)
                for _ in range(2 * shape.n_layer)]
        args = (input_ids, torch.ones(batch, past_len + seq, dtype=torch.long),
                torch.arange(past_len, past_len + seq).expand(batch, seq), *past)
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
                "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
        axes.update({name: {0: "batch", 2: "past"} for name in inputs if name.startswith("past_")})
        axes.update({name: {0: "batch", 2: "total"} for name in outputs
                     if name.startswith("present_")})
    else:
        wrapper = _LogitsOnly(model, hidden_states).eval()
        args = (input_ids, torch.ones(batch, seq, dtype=torch.long))
        axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                "logits": {0: "batch", 1: "seq"}}
    if hidden_states:
        axes["hidden_states"] = {0: "batch", 1: "seq"}
    with warnings.catch_warnings(), torch.no_grad():
        # Constant folding is off on purpose: it would fold the transpose of the tied
        # input embedding into a second [n_embd, vocab] initializer and store the
        # weight twice. onnxruntime folds it in memory when the session loads.
        # The legacy exporter's deprecation notice and the tracer's "converting a tensor
        # to a Python value" warnings are expected; parity checking is what tells us the
        # traced graph is right.
        warnings.simplefilter("ignore")
        with export_friendly_scan(model.config):
            torch.onnx.export(wrapper, args, str(path), dynamo=False, opset_version=OPSET,
                              input_names=inputs, output_names=outputs, dynamic_axes=axes,
                              do_constant_folding=False)
    fix_negative_perms(path)  # Mamba2's scan; a no-op for the attention families


def _consolidate_external_data(folder: Path, onnx_path: Path) -> None:
    """Gather the exporter's per-tensor weight files into one `model.onnx.data`."""
    import onnx

    proto = onnx.load(str(onnx_path), load_external_data=True)
    for stray in folder.iterdir():
        stray.unlink()
    onnx.save_model(proto, str(onnx_path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=EXTERNAL_DATA_FILENAME,
                    size_threshold=1024)


def _write_manifest(folder: Path, report: ExportReport, parity, config, *,
                    manifest_format: str, extra: dict | None) -> None:
    shape = GraphShape.from_config(config)
    inputs, outputs = expected_signature(shape.n_layer, report.kv_cache, report.hidden_states)
    external = EXTERNAL_DATA_FILENAME in report.files
    model_section = {"architecture": shape.architecture, "parameters": report.parameters,
                     "n_layer": shape.n_layer, "n_head": shape.n_head}
    if shape.n_kv_head != shape.n_head:
        model_section["n_kv_head"] = shape.n_kv_head
    model_section.update(head_dim=shape.head_dim, n_embd=shape.hidden_size,
                         n_positions=shape.context, vocab_size=shape.vocab_size)
    manifest = {
        "format": manifest_format,
        "files": [*report.files, "tokenizer.json", "config.json", MANIFEST_FILENAME],
        "model": model_section,
        "onnx": {"file": MODEL_FILENAME, "bytes": report.onnx_bytes,
                 "sha256": report.onnx_sha256, "opset": report.opset,
                 "exporter": "torch.onnx.export(dynamo=False)", "constant_folding": False,
                 "tied_embedding_stored_once": True, "kv_cache": report.kv_cache,
                 "hidden_states": report.hidden_states,
                 "shape_arithmetic_folded": report.shape_arithmetic_folded,
                 "inputs": inputs, "outputs": outputs,
                 "weights": f"in {EXTERNAL_DATA_FILENAME}" if external else "inside model.onnx"},
        "verification": {
            "runtime": f"onnxruntime {onnxruntime.__version__} CPUExecutionProvider",
            "max_abs_logit_diff": report.max_abs_logit_diff,
            "tolerance": report.tolerance,
            "shapes_checked": [list(s) for s in parity.shapes_checked],
            "ragged_right_padded_batch": True,
            "greedy_prompts": parity.greedy_prompts,
            "greedy_new_tokens": parity.greedy_new_tokens,
            "greedy_identical_to_torch": parity.greedy_identical,
        },
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "onnxruntime": onnxruntime.__version__},
    }
    manifest.update(extra or {})
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


def export_model(model, tokenizer: Tokenizer | Path, out_dir: str | Path, *,
                 kv_cache: bool = True, tolerance: float = MAX_ABS_LOGIT_DIFF,
                 manifest_format: str = CONTROL_FORMAT, manifest_extra: dict | None = None,
                 external_data_bytes: int = EXTERNAL_DATA_BYTES, hidden_states: bool = False,
                 on_step: Callable[[str], None] | None = None) -> ExportReport:
    """Export, verify and install `model` + `tokenizer` as the folder `out_dir`.

    `tokenizer` is a `tokenizers.Tokenizer` (written out) or the path of an existing
    `tokenizer.json` (copied byte for byte). `manifest_extra` adds top-level keys to
    the manifest (a conversion's source files, say). `hidden_states` adds the last
    layer's states as an output (the embedding probe reads them). Raises `ExportCheckError` (and
    leaves nothing behind) if onnxruntime disagrees with torch by more than `tolerance`
    in any logit, if greedy KV decoding differs, or if the file is much larger than the
    weights (a duplicated tied embedding).
    """
    say = on_step or (lambda _message: None)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the installed folder should not be
    try:
        model.eval()
        parameters = sum(p.numel() for p in model.parameters())  # tied weights counted once
        onnx_path = staging / MODEL_FILENAME
        graph_dir = staging / "graph"  # the exporter may scatter weights beside the file
        graph_dir.mkdir()
        say(f"exporting the {'KV-cache ' if kv_cache else ''}ONNX graph")
        _export_graph(model, graph_dir / MODEL_FILENAME, kv_cache, hidden_states)
        folded = False
        if 4 * parameters > external_data_bytes or any(
                p.name != MODEL_FILENAME for p in graph_dir.iterdir()):
            _consolidate_external_data(graph_dir, graph_dir / MODEL_FILENAME)
        else:  # weights inside the file: small enough to rewrite and re-check in memory
            say("folding the graph's shape arithmetic")
            folded = fold_export_file(graph_dir / MODEL_FILENAME,
                                      GraphShape.from_config(model.config).vocab_size)
        for produced in graph_dir.iterdir():
            produced.rename(staging / produced.name)
        graph_dir.rmdir()
        files = tuple(sorted((p.name for p in staging.iterdir()), key=len))
        onnx_bytes = sum((staging / name).stat().st_size for name in files)
        layers = GraphShape.from_config(model.config).n_layer
        per_layer = (_RECURRENT_GRAPH_BYTES_PER_LAYER if is_recurrent(model.config)
                     else _GRAPH_BYTES_PER_LAYER)
        if onnx_bytes > (_MAX_FILE_TO_PARAMETER_BYTES * 4 * parameters
                         + per_layer * (layers + 1)):
            raise ExportCheckError(f"{MODEL_FILENAME} is {onnx_bytes} bytes for {parameters} "
                                   "float32 parameters: are tied weights stored twice?")
        say("checking onnxruntime against torch")
        onnx_model = open_model(onnx_path)
        check_signature(onnx_model, model.config, kv_cache, hidden_states)
        parity = check_parity(model, onnx_model, tolerance=tolerance,
                              greedy_without_cache=is_recurrent(model.config))
        if hidden_states:
            check_hidden_state_parity(model, onnx_model, tolerance=tolerance)
        del onnx_model  # release the file before renaming the folder
        if isinstance(tokenizer, Path):
            shutil.copyfile(tokenizer, staging / "tokenizer.json")
        else:
            save_tokenizer(tokenizer, staging)
        model.config.to_json_file(staging / "config.json", use_diff=False)
        report = ExportReport(out_dir, kv_cache, OPSET, parity.max_abs_logit_diff,
                              parity.greedy_identical, onnx_bytes, file_sha256(onnx_path),
                              parameters, parity.shapes_checked, files, tolerance, hidden_states,
                              shape_arithmetic_folded=folded)
        _write_manifest(staging, report, parity, model.config,
                        manifest_format=manifest_format, extra=manifest_extra)
        _replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report

