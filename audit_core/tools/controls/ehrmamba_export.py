"""Export the EHRMamba-style control to the folder the audit engine reads, checked.

`model.onnx` takes `input_ids`, `attention_mask` [batch, seq] int64 and the side inputs
`token_type_ids`, `visit_orders`, `visit_segments` (int64) and `ages`, `time_stamps`
(float32, NaN allowed), all [batch, seq], and returns `logits` [batch, seq, vocab]. No
recurrent-state cache (see mamba_export.py): generation recomputes. Beside it:
`side_inputs.json` (which event fact feeds each side input, and the token types),
`tokenizer.json`, `config.json` (n_positions) and `manifest.json`.

Accepted only when onnxruntime agrees with torch on a ragged right-padded batch of real
records and on a second shape (max |logit difference| within 1e-4).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
import torch
import transformers
from tokenizers import Tokenizer

from audit_core.fingerprint import file_sha256
from audit_core.tools.controls.ehrmamba import INPUT_NAMES, SIDE_INPUTS, TOKEN_TYPES, EhrMamba
from audit_core.tools.controls.ehrmamba_train import as_torch, pad_batch
from audit_core.tools.controls.mamba_export import fix_negative_perms
from audit_core.tools.controls.parity import ExportCheckError
from audit_core.tools.controls.tokenizer import save_tokenizer

OPSET = 17
TOLERANCE = 1e-4
FORMAT = "mnemoscope-control-export/1"


def _session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits(session: onnxruntime.InferenceSession, batch: dict[str, np.ndarray]) -> np.ndarray:
    return session.run(["logits"], {name: batch[name] for name in INPUT_NAMES})[0]


def _check(model: EhrMamba, session, rows: Sequence[dict[str, np.ndarray]]) -> tuple[float, list]:
    diffs, shapes = [], []
    for chosen in (list(rows[:5]), list(rows[5:7])):
        batch = pad_batch(chosen, 0)
        with torch.no_grad():
            expected = model(**as_torch(batch)).numpy()
        got = onnx_logits(session, batch)
        valid = batch["attention_mask"].astype(bool)
        diffs.append(float(np.max(np.abs(got[valid] - expected[valid]))))
        shapes.append(list(batch["input_ids"].shape))
    worst = max(diffs)
    if not np.isfinite(worst) or worst > TOLERANCE:
        raise ExportCheckError(f"ONNX logits differ from torch by up to {worst:.3g} "
                               f"(tolerance {TOLERANCE:g}) on shapes {shapes}")
    return worst, shapes


def export_ehrmamba(model: EhrMamba, tokenizer: Tokenizer, rows: Sequence[dict[str, np.ndarray]],
                    out_dir: str | Path, *, extra: dict | None = None) -> dict:
    """Export, check against torch on `rows` (real records: 7 or more), install `out_dir`."""
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        model.eval()
        onnx_path = staging / "model.onnx"
        example = as_torch(pad_batch(rows[:2], 0))
        axes = {name: {0: "batch", 1: "seq"} for name in [*INPUT_NAMES, "logits"]}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notices; the parity check decides
            torch.onnx.export(model, tuple(example[name] for name in INPUT_NAMES), str(onnx_path),
                              dynamo=False, opset_version=OPSET, input_names=INPUT_NAMES,
                              output_names=["logits"], dynamic_axes=axes,
                              do_constant_folding=False)
        fix_negative_perms(onnx_path)
        session = _session(onnx_path)
        worst, shapes = _check(model, session, rows)
        del session
        save_tokenizer(tokenizer, staging)
        (staging / "side_inputs.json").write_text(json.dumps(
            {"inputs": SIDE_INPUTS, "token_types": TOKEN_TYPES}, indent=2) + "\n")
        model.config.to_json_file(staging / "config.json", use_diff=False)
        manifest = {
            "format": FORMAT,
            "files": ["model.onnx", "tokenizer.json", "config.json", "side_inputs.json",
                      "manifest.json"],
            "model": {"architecture": "EhrMamba2Style (Mamba2 backbone, summed code, type, age, "
                                      "time and visit embeddings)",
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "n_layer": model.config.num_hidden_layers,
                      "n_embd": model.config.hidden_size,
                      "n_positions": model.config.n_positions,
                      "vocab_size": model.config.vocab_size},
            "onnx": {"file": "model.onnx", "bytes": onnx_path.stat().st_size,
                     "sha256": file_sha256(onnx_path), "opset": OPSET,
                     "exporter": "torch.onnx.export(dynamo=False)", "kv_cache": False,
                     "inputs": INPUT_NAMES, "outputs": ["logits"]},
            "verification": {"runtime": f"onnxruntime {onnxruntime.__version__} "
                                        "CPUExecutionProvider",
                             "max_abs_logit_diff": worst, "tolerance": TOLERANCE,
                             "shapes_checked": shapes, "ragged_right_padded_batch": True},
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "onnxruntime": onnxruntime.__version__},
            **(extra or {}),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
