"""`mnemoscope convert` on Mamba and Mamba2 causal LMs (tiny, randomly initialised, built
from a config here; transformers' pure-torch path): the export passes the same parity
check as the attention families (a ragged batch, a second shape, greedy decoding that
recomputes the prefix token for token against torch), and the engine audits it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audit_core.cli.main import main
from audit_core.models.inspection import inspect_model
from audit_core.tools.controls.tokenizer import build_tokenizer
from tests.conversion.test_convert import _save_source


@pytest.fixture(scope="module")
def mamba_sources(tmp_path_factory) -> dict[str, Path]:
    import torch
    from transformers import Mamba2Config, Mamba2ForCausalLM, MambaConfig, MambaForCausalLM

    vocab = build_tokenizer().get_vocab_size()
    special = dict(bos_token_id=2, eos_token_id=3, pad_token_id=0)
    root = tmp_path_factory.mktemp("hf-mamba")
    torch.manual_seed(0)
    mamba = MambaForCausalLM(MambaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2,
                                         state_size=8, expand=2, conv_kernel=4, **special))
    # chunk_size 8 < the checked lengths: the chunked scan and its padding are exercised.
    mamba2 = Mamba2ForCausalLM(Mamba2Config(vocab_size=vocab, hidden_size=32, num_hidden_layers=2,
                                            num_heads=4, head_dim=16, state_size=8, n_groups=1,
                                            expand=2, chunk_size=8, conv_kernel=4, **special))
    return {"mamba": _save_source(mamba, root / "mamba"),
            "mamba2": _save_source(mamba2, root / "mamba2")}


@pytest.mark.parametrize("family", ["mamba", "mamba2"])
def test_mamba_converts_to_a_checked_graph_without_cache(family: str, mamba_sources,
                                                         tmp_path: Path, capsys) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from audit_core.models.onnx_causal_lm import OnnxCausalLM

    out = tmp_path / "onnx"
    assert main(["convert", str(mamba_sources[family]), str(out)]) == 0
    assert "identical: yes" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    check = manifest["verification"]
    assert manifest["onnx"]["kv_cache"] is False
    assert manifest["onnx"]["inputs"] == ["input_ids", "attention_mask"]
    assert 0 <= check["max_abs_logit_diff"] <= 1e-4
    assert check["greedy_identical_to_torch"] is True and check["greedy_prompts"] == 3
    assert "recomputes the prefix" in manifest["converted"]["graphs"]

    # The engine reads it: a Mamba has no position table, so the export's n_positions.
    info = inspect_model(out)
    assert info.context_length == 1024 and not info.kv_cache
    engine = OnnxCausalLM(info)
    source = AutoModelForCausalLM.from_pretrained(mamba_sources[family], local_files_only=True)
    rng = np.random.default_rng(1)
    ids = rng.integers(4, info.vocab_size or 20, size=(2, 45)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 30:] = 0  # right padding leaves the valid positions unchanged (causal scan)
    with torch.no_grad():
        expected = source(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                          use_cache=False).logits.numpy()
    got = engine.logits(ids, mask)
    valid = mask.astype(bool)
    assert np.max(np.abs(got[valid] - expected[valid])) < 1e-4
    # Generation without a cache: the engine's greedy recomputes and gives torch's tokens.
    prompt = ids[:1, :10]
    with torch.no_grad():
        reference = source.generate(torch.from_numpy(prompt), max_new_tokens=6, do_sample=False,
                                    min_new_tokens=6).numpy()[:, 10:]
    assert engine.greedy(prompt, 6).tolist() == reference.tolist()


def test_closed_form_scan_equals_transformers_loop() -> None:
    """The loop-free Mamba (v1) scan used for the export is transformers' recurrence."""
    import torch
    from transformers.models.mamba import modeling_mamba

    from audit_core.tools.controls.mamba_export import closed_form_selective_scan

    torch.manual_seed(3)
    b, d, n, length = 2, 6, 4, 37
    args = dict(hidden_states=torch.randn(b, d, length), dt=torch.randn(b, d, length),
                A=-torch.rand(d, n) * 3, B=torch.randn(b, n, length), C=torch.randn(b, n, length),
                D=torch.randn(d), z=torch.randn(b, d, length), delta_bias=torch.randn(d),
                delta_softplus=True)
    loop = modeling_mamba.mamba_selective_scan.__wrapped__ if hasattr(
        modeling_mamba.mamba_selective_scan, "__wrapped__") else modeling_mamba.mamba_selective_scan
    expected, expected_state = loop(**args, return_last_state=True)
    got, state = closed_form_selective_scan(**args, return_last_state=True)
    assert torch.allclose(got, expected, atol=1e-5) and torch.allclose(state, expected_state,
                                                                       atol=1e-5)
