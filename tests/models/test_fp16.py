"""fp16, a labelled precision like the int8 screen (models/precision.py): converted into a
private temporary folder (float32 inputs and outputs kept, so the engine's feeds and KV
cache are unchanged), cached by content, run by onnxruntime's CPU provider here, and
recorded with its rank agreement against fp32 in results.json and the report."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from audit_core.models import precision
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.passes.precision_agreement import runtime_facts
from audit_core.report.sections.precision import precision_notice, precision_text


def test_fp16_runs_a_half_precision_copy_and_ranks_the_demo_like_fp32(demo_dir: Path, monkeypatch) -> None:
    info = inspect_model(demo_dir / "model")
    before = (demo_dir / "model" / "model.onnx").read_bytes()
    precision.clear_int8_cache()  # an earlier test's copy of the demo (any precision) is let go
    leftovers = set(Path(tempfile.gettempdir()).glob("mnemoscope-fp16-*"))
    converted = []
    half = precision._half
    monkeypatch.setattr(precision, "_half", lambda *a: converted.append(1) or half(*a))
    fast = OnnxCausalLM(info, threads=1, provider="cpu", precision="fp16")
    again = OnnxCausalLM(info, threads=1, provider="cpu", precision="fp16")
    assert len(converted) == 1  # the second session reuses the process's copy
    assert (demo_dir / "model" / "model.onnx").read_bytes() == before
    assert set(Path(tempfile.gettempdir()).glob("mnemoscope-fp16-*")) == leftovers
    # The engine's contract holds: float32 past in, float32 logits out, the same KV shapes.
    assert all("float)" in i.type for i in fast.session.get_inputs() if "past" in i.name)
    assert fast.kv_cache and fast.left_padding and fast.precision == "fp16"
    tokenizer = load_tokenizer(info.folder)
    texts = [*pd.read_csv(demo_dir / "members.csv")["codes"][:24],
             *pd.read_csv(demo_dir / "non_members.csv")["codes"][:24]]
    ids = encode_all(tokenizer, list(texts))
    full = OnnxCausalLM(info, threads=1, provider="cpu")
    batch = np.stack([x[:20] for x in ids[:4]])
    moved = np.abs(fast.logits(batch, np.ones_like(batch)) - full.logits(batch, np.ones_like(batch))).max()
    assert 0 < moved < 0.1  # really half precision, and close
    np.testing.assert_array_equal(fast.greedy(batch[:, :8], 6), again.greedy(batch[:, :8], 6))
    facts = runtime_facts(fast, ids, pad_id=0, batch_size=16)
    agreement = facts["fp16_agreement"]
    assert facts["precision"] == "fp16" and "not the fp32 evidence" in str(facts["precision_label"])
    assert isinstance(agreement, dict) and agreement["records"] == 48
    assert agreement["spearman"] > 0.99 and 0 < agreement["max_abs_logprob_diff"] < 0.1
    assert "fp16" in precision_text(facts) and "Spearman" in precision_text(facts)
    assert "FP16" in str(precision_notice(facts)) and precision_notice({"precision": "fp32"}) is None
