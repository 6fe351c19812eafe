"""How well a labelled precision (the int8 fast screen, fp16) ranks records like the fp32
model does, for results.json.

The int8 or fp16 copy (models/precision.py) is a different model: a run on it records its
Spearman rank agreement with fp32 on a sample of the audited records, scored by both
with the shared token-scores pass. Here, above the models and that pass, because it runs
a second model (OnnxCausalLM at fp32) and scores it.
"""

from __future__ import annotations

import numpy as np

from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.precision import LABELS
from audit_core.passes.token_scores import score_tokens
from audit_core.work.progress import Progress

# Records scored by both precisions to measure their rank agreement.
AGREEMENT_SAMPLE = 64


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    if len(a) < 3:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def rank_agreement(fp32_model: OnnxCausalLM, int8_model: OnnxCausalLM, token_ids: list[np.ndarray], *, pad_id: int,
                   batch_size: int, sample: int = AGREEMENT_SAMPLE) -> dict[str, float | int]:
    """Spearman correlation of per-record mean log-probability, fp32 vs int8 (or fp16), on an evenly
    spaced sample of records; with the largest per-token difference seen."""
    if not token_ids:
        return {"records": 0, "spearman": float("nan"), "max_abs_logprob_diff": float("nan")}
    picked = [token_ids[i] for i in
              np.unique(np.linspace(0, len(token_ids) - 1, min(sample, len(token_ids))).astype(int))]
    full = score_tokens(fp32_model, picked, batch_size=batch_size, pad_id=pad_id, progress=Progress())
    fast = score_tokens(int8_model, picked, batch_size=batch_size, pad_id=pad_id, progress=Progress())
    means = np.array([lp.mean() for lp in full.logprobs]), np.array([lp.mean() for lp in fast.logprobs])
    diff = max(float(np.abs(a - b).max()) for a, b in zip(full.logprobs, fast.logprobs))
    return {"records": len(picked), "spearman": round(spearman(*means), 6),
            "max_abs_logprob_diff": round(diff, 6)}


def runtime_facts(model: OnnxCausalLM, token_ids: list[np.ndarray], *, pad_id: int,
                  batch_size: int) -> dict[str, object]:
    """What results.json records about how the model ran: its precision and, for the int8
    screen and fp16, its rank agreement with fp32 on a sample of the audited records
    ("int8_agreement" / "fp16_agreement"). (Thread counts are the machine's business:
    results.json depends on plan and inputs only.)"""
    facts: dict[str, object] = {"precision": model.precision}
    if model.precision in LABELS:
        facts["precision_label"] = LABELS[model.precision]
        reference = OnnxCausalLM(model.info, model.threads, precision="fp32",
                                 provider="cpu" if model.provider == "CPUExecutionProvider" else "auto",
                                 io_binding=model.io_binding,
                                 inputs=model.side_tables[0], token_types=model.side_tables[1])
        reference.share_records(model)  # both look the same records' events up
        facts[f"{model.precision}_agreement"] = rank_agreement(reference, model, token_ids, pad_id=pad_id,
                                                               batch_size=batch_size)
    return facts
