"""Session sizing, the execution-provider choice and the int8 fast screen, on small models
built in-process (bench/synthetic_lm.py) and on the bundled demo model (trained, so its
records rank by memorization and int8 must rank them like fp32)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from audit_core.errors import ModelError, PlanError
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.runtime import physical_cores, resolve_provider
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.passes.precision_agreement import rank_agreement, runtime_facts
from audit_core.plan.parsing import plan_from_dict
from audit_core.report.sections.precision import precision_text
from audit_core.tools.bench.synthetic_lm import SMALL, build_synthetic_lm

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    return build_synthetic_lm(tmp_path_factory.mktemp("small"), SMALL, seed=3)


def _sha(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_synthetic_decoder_decodes_from_its_cache_as_it_scores_whole_sequences(small_model) -> None:
    info = inspect_model(small_model)
    assert info.kv_cache and info.context_length == SMALL.n_positions
    assert abs(info.parameters - SMALL.parameters) < 16  # plus the graph's scalar constants
    model = OnnxCausalLM(info, provider="cpu")
    rng = np.random.default_rng(0)
    prompts = rng.integers(0, SMALL.vocab, (3, 6))
    tokens = model.greedy(prompts, 8)
    sequence = prompts
    for step in range(8):  # recompute the whole prefix: the cache must give the same argmax
        logits = model.logits(sequence, np.ones_like(sequence))
        assert np.array_equal(logits[:, -1].argmax(-1), tokens[:, step])
        sequence = np.concatenate([sequence, tokens[:, step:step + 1]], axis=1)
    ids = rng.integers(0, SMALL.vocab, (2, 12))
    mask = np.ones_like(ids)
    mask[1, 7:] = 0  # right padding must not change the real positions
    padded = model.logits(ids, mask)[1, :7]
    alone = model.logits(ids[1:, :7], np.ones((1, 7), dtype=np.int64))[0]
    assert np.abs(padded - alone).max() < 1e-5


def test_sessions_use_one_thread_per_physical_core_unless_told(small_model) -> None:
    info = inspect_model(small_model)
    assert 1 <= physical_cores() <= (__import__("os").cpu_count() or 1)
    assert OnnxCausalLM(info, provider="cpu").threads == physical_cores()
    assert OnnxCausalLM(info, 1, provider="cpu").threads == 1


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(),
                    reason="this onnxruntime has CUDA: the refusal cannot be shown")
def test_cuda_is_refused_with_the_reason_when_onnxruntime_lacks_it(small_model) -> None:
    with pytest.raises(ModelError, match="no CUDA support.*onnxruntime-gpu"):
        OnnxCausalLM(inspect_model(small_model), provider="cuda")
    assert resolve_provider("auto") == ["CPUExecutionProvider"]
    model = OnnxCausalLM(inspect_model(small_model), provider="auto")
    assert model.provider == "CPUExecutionProvider"


def test_the_plan_takes_provider_and_precision_and_refuses_other_values() -> None:
    base = {"model": {"path": "m"}, "data": {"members": "a.csv", "non_members": "b.csv"}}
    plan = plan_from_dict(base)
    assert (plan.model.provider, plan.model.precision) == ("auto", "fp32")  # never int8 by default
    assert plan.as_dict()["model"]["precision"] == "fp32"
    chosen = plan_from_dict({**base, "model": {"path": "m", "provider": "cpu", "precision": "int8"}})
    assert (chosen.model.provider, chosen.model.precision) == ("cpu", "int8")
    with pytest.raises(PlanError, match="model.provider"):
        plan_from_dict({**base, "model": {"path": "m", "provider": "tpu"}})
    assert plan_from_dict({**base, "model": {"path": "m", "precision": "fp16"}}).model.precision == "fp16"
    with pytest.raises(PlanError, match="model.precision"):
        plan_from_dict({**base, "model": {"path": "m", "precision": "bf16"}})


def test_int8_runs_a_temporary_copy_and_never_touches_the_model(small_model) -> None:
    before = _sha(small_model)
    leftovers = set(Path(tempfile.gettempdir()).glob("mnemoscope-int8-*"))
    info = inspect_model(small_model)
    fast = OnnxCausalLM(info, provider="cpu", precision="int8")
    full = OnnxCausalLM(info, provider="cpu")
    assert _sha(small_model) == before
    assert set(Path(tempfile.gettempdir()).glob("mnemoscope-int8-*")) == leftovers
    # Really quantized: the session runs integer matrix products.
    assert fast.precision == "int8" and full.precision == "fp32"
    ids = np.random.default_rng(1).integers(0, SMALL.vocab, (4, 20))
    diff = np.abs(fast.logits(ids, np.ones_like(ids)) - full.logits(ids, np.ones_like(ids)))
    assert 0 < diff.max() < 0.5


def test_int8_ranks_the_demo_records_like_fp32() -> None:
    """The demo model memorized its members: int8 must keep the records' order."""
    import pandas as pd

    info = inspect_model(DEMO / "model")
    tokenizer = load_tokenizer(info.folder)
    texts = [*pd.read_csv(DEMO / "members.csv")["codes"][:32], *pd.read_csv(DEMO / "non_members.csv")["codes"][:32]]
    ids = encode_all(tokenizer, list(texts))
    fast = OnnxCausalLM(info, provider="cpu", precision="int8")
    agreement = rank_agreement(OnnxCausalLM(info, provider="cpu"), fast, ids, pad_id=0, batch_size=32)
    assert agreement["records"] == 64
    assert agreement["spearman"] > 0.98
    assert 0 < agreement["max_abs_logprob_diff"] < 0.5
    facts = runtime_facts(fast, ids, pad_id=0, batch_size=32)
    assert facts["precision"] == "int8" and facts["int8_agreement"] == agreement  # deterministic
    assert "int8 fast screen" in precision_text(facts) and "Spearman" in precision_text(facts)
    assert runtime_facts(OnnxCausalLM(info, provider="cpu"), ids, pad_id=0, batch_size=32) == {
        "precision": "fp32"}

