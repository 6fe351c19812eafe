"""Train, export and verify TINY control models: the ONNX contract, memorization of
planted records through onnxruntime, the negative control, and refusal of bad exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from transformers import GPT2LMHeadModel

from audit_core.stats.roc import auc
from audit_core.tools.controls.export import ExportCheckError, export_model
from audit_core.tools.controls.memorization import (
    extraction,
    mean_token_logprobs,
)
from audit_core.tools.controls.onnx_runner import full_logits, greedy_continuations, open_model
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.controls.trainer import TINY, build_model, train_model

pytestmark = pytest.mark.slow


def _texts(records):
    return [r.codes for r in records]


def test_export_folder_and_manifest(tiny_positive) -> None:
    folder = tiny_positive.export.out_dir
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "manifest.json", "model.onnx", "tokenizer.json"]
    config = json.loads((folder / "config.json").read_text())
    assert config["n_positions"] == 128 and config["n_layer"] == TINY.n_layer
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["onnx"]["opset"] == 17 and manifest["onnx"]["kv_cache"] is True
    assert manifest["verification"]["greedy_identical_to_torch"] is True
    assert 0 <= manifest["verification"]["max_abs_logit_diff"] <= 1e-4
    assert manifest["versions"]["torch"].startswith("2.13")
    # Weights inside the one file, and the tied embedding stored once.
    size = (folder / "model.onnx").stat().st_size
    assert size < 1.25 * 4 * tiny_positive.export.parameters
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL
                   for t in onnx.load(str(folder / "model.onnx")).graph.initializer)


def test_kv_signature_is_the_contract(tiny_positive) -> None:
    model = open_model(tiny_positive.export.out_dir / "model.onnx")
    inputs = {i.name: i for i in model.session.get_inputs()}
    outputs = {o.name: o for o in model.session.get_outputs()}
    head_dim = TINY.n_embd // TINY.n_head
    assert list(inputs) == ["input_ids", "attention_mask", "position_ids", "past_key_0",
                            "past_value_0", "past_key_1", "past_value_1"]
    assert list(outputs) == ["logits", "present_key_0", "present_value_0", "present_key_1",
                             "present_value_1"]
    assert inputs["input_ids"].type == "tensor(int64)"
    assert inputs["past_key_0"].type == "tensor(float)"
    assert inputs["past_key_0"].shape == ["batch", TINY.n_head, "past", head_dim]
    assert inputs["attention_mask"].shape == ["batch", "total"]
    assert outputs["present_value_1"].shape == ["batch", TINY.n_head, "total", head_dim]
    # Scoring a whole sequence with an empty past (B, H, 0, D) works and returns presents.
    ids = np.array([[2, 5, 6, 7, 3]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
             "position_ids": np.arange(5, dtype=np.int64)[None],
             **{name: np.zeros((1, TINY.n_head, 0, head_dim), np.float32)
                for name in inputs if name.startswith("past_")}}
    logits, *presents = model.session.run(None, feeds)
    assert logits.shape == (1, 5, build_tokenizer().get_vocab_size())
    assert all(p.shape == (1, TINY.n_head, 5, head_dim) for p in presents)


def test_kv_decoding_matches_full_recompute(tiny_positive) -> None:
    model = open_model(tiny_positive.export.out_dir / "model.onnx")
    prompts = np.array([[2, 4, 9, 17, 30], [2, 5, 8, 13, 21]], dtype=np.int64)
    generated, step_logits = greedy_continuations(model, prompts, 6, return_logits=True)
    full = np.concatenate([prompts, generated], axis=1)
    recomputed = full_logits(model, full, np.ones_like(full))
    np.testing.assert_allclose(step_logits, recomputed[:, 4:-1], atol=1e-4)


def test_positive_control_gives_back_planted_records(tiny_positive) -> None:
    cohorts = tiny_positive.cohorts
    model = open_model(tiny_positive.export.out_dir / "model.onnx")
    tokenizer = build_tokenizer()
    planted = [r for r in cohorts.members if r.patient_id in cohorts.planted_ids]
    assert extraction(model, tokenizer, _texts(planted)).count == len(planted) == 3
    assert extraction(model, tokenizer, _texts(cohorts.non_members)).count <= 1
    # LOSS: planted records far above every non-member; members above non-members overall.
    planted_scores = mean_token_logprobs(model, tokenizer, _texts(planted), context=128)
    non_member_scores = mean_token_logprobs(model, tokenizer, _texts(cohorts.non_members),
                                            context=128)
    member_scores = mean_token_logprobs(model, tokenizer, _texts(cohorts.members), context=128)
    assert planted_scores.min() > non_member_scores.max()
    assert auc(member_scores, non_member_scores) > 0.6


def test_negative_control_separates_nothing(tiny_negative, tiny_cohorts) -> None:
    model = open_model(tiny_negative.model_dir / "model.onnx")
    tokenizer = build_tokenizer()
    members = mean_token_logprobs(model, tokenizer, _texts(tiny_cohorts.members), context=128)
    others = mean_token_logprobs(model, tokenizer, _texts(tiny_cohorts.non_members), context=128)
    assert 0.4 <= auc(members, others) <= 0.6
    planted = [r for r in tiny_cohorts.members if r.patient_id in tiny_cohorts.planted_ids]
    assert extraction(model, tokenizer, _texts(planted)).count == 0
    assert tiny_negative.planted_ids == () and tiny_negative.export.greedy_identical is True


def test_export_without_kv_cache(tiny_positive_plain) -> None:
    report = tiny_positive_plain
    model = open_model(report.out_dir / "model.onnx")
    assert [i.name for i in model.session.get_inputs()] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.session.get_outputs()] == ["logits"]
    assert report.greedy_identical is None and report.max_abs_logit_diff <= 1e-4


class _ShapeBakedGPT2(GPT2LMHeadModel):
    """Python control flow on a shape: the tracer bakes in the branch of the example."""

    def forward(self, input_ids=None, **kwargs):
        out = super().forward(input_ids=input_ids, **kwargs)
        if input_ids.shape[1] > 10:  # example inputs are shorter; checks are longer
            out.logits = out.logits + 0.5
        return out


def test_failed_check_leaves_nothing_and_keeps_the_old_folder(tmp_path: Path) -> None:
    tokenizer = build_tokenizer()
    good = build_model(TINY, tokenizer, seed=1)
    bad = _ShapeBakedGPT2(good.config)
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.onnx").write_bytes(b"previous export")
    with pytest.raises(ExportCheckError, match="differ from torch"):
        export_model(bad, tokenizer, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging left over
    assert (target / "model.onnx").read_bytes() == b"previous export"
    with pytest.raises(ExportCheckError):
        export_model(bad, tokenizer, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_training_and_export_are_deterministic(tiny_cohorts, tmp_path: Path) -> None:
    tokenizer = build_tokenizer()
    texts = _texts(tiny_cohorts.members[:60])
    first = train_model(texts, tokenizer, size=TINY, epochs=2, seed=9)
    second = train_model(texts, tokenizer, size=TINY, epochs=2, seed=9)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name
    a = export_model(first, tokenizer, tmp_path / "a")
    b = export_model(second, tokenizer, tmp_path / "b")
    assert a.onnx_sha256 == b.onnx_sha256
    assert (tmp_path / "a" / "manifest.json").read_bytes() == \
        (tmp_path / "b" / "manifest.json").read_bytes()
