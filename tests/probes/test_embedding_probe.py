"""Known answers for T3 (the embedding probe): a real memorizing control re-exported with
its hidden states, and stand-in models that store a sensitive category in the state of
members' prompts only (memorization) or of everyone's (inferability, not memorization)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.results.verdicts import Verdict
from tests.probes.demo_slice import clinical_context, flat_loss

# --- T3: hidden states -----------------------------------------------------------------


def test_export_with_hidden_states_is_recognised_and_read_at_the_last_real_token(
        tmp_path: Path, tiny_positive, demo_dir: Path) -> None:
    import torch

    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.tools.controls.export import export_model
    from audit_core.tools.controls.tokenizer import build_tokenizer

    report = export_model(tiny_positive.model, build_tokenizer(), tmp_path / "hidden",
                          hidden_states=True)
    info = inspect_model(report.out_dir)
    assert report.hidden_states and info.hidden_states and info.kind == "causal_lm"
    assert not inspect_model(demo_dir / "model").hidden_states
    ids = np.array([[2, 10, 11, 12, 13], [2, 14, 15, 0, 0]])
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    ours = OnnxCausalLM(info).last_hidden_states(ids, mask)
    with torch.no_grad():
        theirs = tiny_positive.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                                     output_hidden_states=True).hidden_states[-1].numpy()
    np.testing.assert_allclose(ours, np.stack([theirs[0, 4], theirs[1, 2]]), atol=1e-4)


def test_the_runner_leaves_out_or_refuses_the_embedding_probe_without_hidden_states(
        demo_dir: Path) -> None:
    from audit_core.errors import ModelError
    from audit_core.models.inspection import inspect_model
    from audit_core.probes import PROBES_BY_ID
    from audit_core.run.runner import supported_probes

    info = inspect_model(demo_dir / "model")
    selected = [(PROBES_BY_ID[i], PROBES_BY_ID[i].config_type()) for i in ("loss", "embedding_probe")]
    assert [p.id for p, _ in supported_probes(selected, info, explicit=False)] == ["loss"]
    with pytest.raises(ModelError, match="hidden states"):
        supported_probes(selected, info, explicit=True)
    with_states = dataclasses.replace(info, hidden_states=True)
    assert len(supported_probes(selected, with_states, explicit=True)) == 2


class StateModel:
    """Hidden states of noise (fixed per prompt), plus `planted[prompt]` on the first
    dimension for the prompts it holds: a model that stores exactly what was planted."""

    has_hidden_states = True
    context_length = 128

    def __init__(self, planted: dict[bytes, float], dim: int = 8) -> None:
        self.planted, self.dim = planted, dim

    def last_hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import zlib

        rows = []
        for row, keep in zip(ids, mask):
            key = np.asarray(row[:int(keep.sum())], dtype=np.int64).tobytes()
            state = np.random.default_rng(zlib.crc32(key)).normal(size=self.dim)
            state[0] += self.planted.get(key, 0.0)
            rows.append(state)
        return np.stack(rows)


def _run_embedding_probe(demo_slice, roles: tuple[Role, ...]):
    """The probe on a stand-in that stores, for the patients of `roles`, whether they carry a
    mental-health code (anywhere in the record), in the state of their prompt."""
    from audit_core.clinical.sensitive_inputs import sensitive_inputs
    from audit_core.probes.embedding_probe import EmbeddingProbe

    probe = EmbeddingProbe()
    ctx = clinical_context(demo_slice, None, "embedding", flat_loss(demo_slice))
    inputs = sensitive_inputs(dataclasses.replace(ctx, model=StateModel({})), 20, "", "test")
    planted = {}
    for role in roles:
        for prompt, label in zip(inputs.prompts[role], inputs.labels[role]["mental_health"]):
            planted[prompt.astype(np.int64).tobytes()] = 2.5 if label else -2.5
    ctx = dataclasses.replace(ctx, model=StateModel(planted))
    return probe.run(probe.config_type(), ctx)


def test_embedding_probe_finds_sensitive_codes_stored_for_members_only(demo_slice) -> None:
    outcome = _run_embedding_probe(demo_slice, (Role.MEMBERS,))
    m = outcome.metrics
    assert m["auc_mental_health_members"] > 0.9 and 0.35 < m["auc_mental_health_non_members"] < 0.65
    assert m["auc_gap_mental_health_ci"][0] > 0.10 and m["q_value_mental_health"] < 0.05
    # Only mental health was planted (comorbid categories may ride along, but less).
    gaps = {k: v for k, v in m.items() if k.startswith("auc_gap_") and not k.endswith("_ci")}
    assert max(gaps, key=gaps.get) == "auc_gap_mental_health"
    assert outcome.verdict is Verdict.FAIL


def test_embedding_probe_calls_what_everyone_reveals_inferability_not_memorization(demo_slice) -> None:
    outcome = _run_embedding_probe(demo_slice, (Role.MEMBERS, Role.NON_MEMBERS))
    m = outcome.metrics
    assert m["auc_mental_health_members"] > 0.9 and m["auc_mental_health_non_members"] > 0.9
    assert m["categories_with_a_member_gap"] == 0 and outcome.verdict is Verdict.PASS
    assert any("inferability, not memorization" in f for f in outcome.findings)
