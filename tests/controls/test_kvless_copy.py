"""A control export rebuilt from its ONNX weights and exported again without a KV cache
(tools/controls/kvless.py): the benchmark's KV-less twin must be the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.tools.controls.kvless import export_without_kv_cache


def test_the_kv_less_copy_gives_the_same_logits_without_a_cache(tmp_path: Path, tiny_positive) -> None:
    source = tiny_positive.export.out_dir
    report = export_without_kv_cache(source, tmp_path / "plain")
    assert not report.kv_cache
    plain, kv = (OnnxCausalLM(inspect_model(folder), threads=1) for folder in (report.out_dir, source))
    assert not plain.kv_cache and kv.kv_cache
    ids = np.random.default_rng(3).integers(4, kv.vocab_size, (3, 20))
    mask = np.ones_like(ids)
    assert np.abs(plain.logits(ids, mask) - kv.logits(ids, mask)).max() < 1e-4
    assert (report.out_dir / "tokenizer.json").read_bytes() == (source / "tokenizer.json").read_bytes()
