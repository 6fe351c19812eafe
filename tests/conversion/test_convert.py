"""`mnemoscope convert`: small GPT-2 and Llama folders (built from a config, saved as
safetensors) become checked ONNX folders the engine audits; unsafe or broken input is
refused and a failed check leaves nothing behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from audit_core.cli.main import main
from audit_core.models.inspection import inspect_model
from audit_core.plan.parsing import load_plan
from audit_core.run.runner import run_audit
from audit_core.tools.controls.parity import ExportCheckError
from audit_core.tools.controls.tokenizer import build_tokenizer
from audit_core.tools.conversion import ConversionError, convert_model, read_source
from tests.conftest import write_plan


def _save_source(model, folder: Path) -> Path:
    from transformers import PreTrainedTokenizerFast

    model.save_pretrained(folder)  # safetensors by default
    PreTrainedTokenizerFast(tokenizer_object=build_tokenizer(), pad_token="[PAD]",
                            unk_token="[UNK]", bos_token="[BOS]",
                            eos_token="[EOS]").save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def hf_sources(tmp_path_factory) -> dict[str, Path]:
    """Untrained GPT-2 and Llama (grouped-query attention, tied embeddings) folders."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    vocab = build_tokenizer().get_vocab_size()
    special = dict(bos_token_id=2, eos_token_id=3, pad_token_id=0)
    root = tmp_path_factory.mktemp("hf")
    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2,
                                      n_head=2, **special))
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, max_position_embeddings=64,
                                         tie_word_embeddings=True, **special))
    return {"gpt2": _save_source(gpt2, root / "gpt2"), "llama": _save_source(llama, root / "llama")}


@pytest.mark.slow
@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_convert_checks_and_writes_an_audit_ready_folder(family: str, hf_sources, tmp_path: Path,
                                                         small_cohorts, capsys) -> None:
    out = tmp_path / "onnx"
    assert main(["convert", str(hf_sources[family]), str(out)]) == 0
    printed = capsys.readouterr().out
    assert "max |logit difference|" in printed and "identical: yes" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "manifest.json", "model.onnx", "tokenizer.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    check = manifest["verification"]
    assert manifest["format"] == "mnemoscope-converted-model/1"
    assert 0 <= check["max_abs_logit_diff"] <= 1e-4 and check["tolerance"] == 1e-3
    assert check["greedy_identical_to_torch"] is True and check["ragged_right_padded_batch"]
    assert check["shapes_checked"] == [[3, 64], [2, 17]]
    assert {f["name"] for f in manifest["source"]["files"]} >= {"model.safetensors", "config.json",
                                                              "tokenizer.json"}
    # tokenizer.json is copied byte for byte
    assert (out / "tokenizer.json").read_bytes() == (hf_sources[family] / "tokenizer.json").read_bytes()
    if family == "llama":
        assert manifest["model"]["n_kv_head"] == 2 and manifest["model"]["n_head"] == 4

    info = inspect_model(out)
    assert info.kv_cache and info.context_length == 64
    assert info.conversion["matches_model"] is True
    assert info.conversion["max_abs_logit_diff"] == check["max_abs_logit_diff"]
    assert main(["inspect", str(out)]) == 0
    assert "converted from " + family in capsys.readouterr().out

    # The engine audits it, and results.json carries the check.
    members, non_members = small_cohorts
    plan = write_plan(tmp_path, model=out, members=members, non_members=non_members,
                      probes="[probes.loss]\n[probes.extraction]\nprefix_tokens = 12\n"
                             "suffix_tokens = 8\n", extra="")
    result = run_audit(load_plan(plan)).as_dict()
    assert result["model"]["conversion"]["max_abs_logit_diff"] == check["max_abs_logit_diff"]
    assert {p["id"] for p in result["probes"]} == {"loss", "extraction"}


def test_pickled_weights_are_refused_without_reading_them(tmp_path: Path, capsys) -> None:
    source = tmp_path / "pickled"
    source.mkdir()
    (source / "config.json").write_text('{"model_type": "gpt2"}')
    (source / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    (source / "tokenizer.json").write_text("{}")
    assert main(["convert", str(source), str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "pickled weights (pytorch_model.bin)" in message and "safetensors" in message
    assert not (tmp_path / "out").exists()


def test_model_code_and_missing_parts_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "custom"
    source.mkdir()
    (source / "config.json").write_text('{"model_type": "x", "auto_map": {"AutoModel": "m.M"}}')
    with pytest.raises(ConversionError, match="own Python code"):
        read_source(source)
    (source / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ConversionError, match="no \\*.safetensors"):
        read_source(source)
    (source / "model.safetensors").write_bytes(b"")
    with pytest.raises(ConversionError, match="no tokenizer"):
        read_source(source)
    with pytest.raises(ConversionError, match="not a folder"):
        read_source(tmp_path / "absent")


def test_missing_torch_says_how_to_install_it(hf_sources, tmp_path: Path, monkeypatch,
                                              capsys) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert main(["convert", str(hf_sources["gpt2"]), str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert "needs torch and transformers" in message and "pip install torch==2.13.0" in message
    assert not (tmp_path / "out").exists()


def test_failed_check_leaves_no_folder(hf_sources, tmp_path: Path, monkeypatch) -> None:
    def disagree(*_args, **_kwargs):
        raise ExportCheckError("ONNX logits differ from torch by up to 0.5")

    monkeypatch.setattr("audit_core.tools.controls.export.check_parity", disagree)
    target = tmp_path / "out"
    with pytest.raises(ConversionError, match="nothing was written"):
        convert_model(hf_sources["llama"], target)
    assert list(tmp_path.iterdir()) == []  # no output, no staging folder
    target.mkdir()
    (target / "model.onnx").write_bytes(b"previous")
    with pytest.raises(ConversionError, match="already holds files"):
        convert_model(hf_sources["llama"], target)
    with pytest.raises(ConversionError, match="nothing was written"):
        convert_model(hf_sources["llama"], target, overwrite=True)
    assert (target / "model.onnx").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_large_weights_go_to_one_external_data_file(hf_sources, tmp_path: Path) -> None:
    """Past the size limit, weights move to model.onnx.data, which the engine reads."""
    from transformers import AutoModelForCausalLM

    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.tools.controls.export import export_model

    model = AutoModelForCausalLM.from_pretrained(hf_sources["gpt2"], local_files_only=True)
    report = export_model(model, hf_sources["gpt2"] / "tokenizer.json", tmp_path / "out",
                          external_data_bytes=0)
    assert report.files == ("model.onnx", "model.onnx.data")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["onnx"]["weights"] == "in model.onnx.data"
    assert manifest["files"][:2] == ["model.onnx", "model.onnx.data"]
    info = inspect_model(tmp_path / "out")
    assert [f.name for f in info.files][:2] == ["model.onnx", "model.onnx.data"]
    assert OnnxCausalLM(info).kv_cache and report.max_abs_logit_diff <= 1e-4


@pytest.mark.slow
def test_the_parameter_count_is_the_models_whatever_the_graph_shares(hf_sources, tmp_path: Path) -> None:
    """The import and the Model step print one count: the source model's, each tensor
    once. The exporter merges equal initializers (this untrained GPT-2's LayerNorm ones and
    zeros), so the graph alone holds fewer; the manifest's count is the model's."""
    import onnx
    from transformers import AutoModelForCausalLM

    from audit_core.models.inspection import _parameter_count

    report = convert_model(hf_sources["gpt2"], tmp_path / "onnx")
    source = AutoModelForCausalLM.from_pretrained(hf_sources["gpt2"], local_files_only=True)
    in_torch = sum(p.numel() for p in source.parameters())
    assert report.parameters == inspect_model(tmp_path / "onnx").parameters == in_torch == 53_152
    graph = onnx.load(str(tmp_path / "onnx" / "model.onnx")).graph
    assert _parameter_count(graph) == 52_544  # what the Model step showed before

    # A manifest that is not about this model file is not believed.
    manifest = json.loads((tmp_path / "onnx" / "manifest.json").read_text())
    manifest["onnx"]["sha256"] = "0" * 64
    (tmp_path / "onnx" / "manifest.json").write_text(json.dumps(manifest))
    assert inspect_model(tmp_path / "onnx").parameters == 52_544

