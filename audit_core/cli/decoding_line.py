"""What an export without a KV cache costs, said before it costs it: a warning line before
`mnemoscope run` when the plan's probes generate, and the KV cache line of `mnemoscope
inspect`. The figure and its sentence come from run/decoding_notice.py, as on the desktop's
Model step."""

from __future__ import annotations

from typing import Any, TextIO

from audit_core.models.inspection import CAUSAL_LM, ModelInfo
from audit_core.plan.parsing import AuditPlan
from audit_core.version import TOOL_NAME


def print_decoding_notice(plan: AuditPlan, stream: TextIO) -> None:
    """A warning, not a refusal: the audit is right, only slow. Nothing for a KV export or
    a plan whose probes do not generate."""
    from audit_core.run.decoding_notice import describe_recompute, plan_notice

    try:
        cost = plan_notice(plan)
    except Exception:  # the run reports an unreadable model or data with its proper message
        return
    if cost is not None:
        print(f"{TOOL_NAME}: warning: this model has no KV cache: {describe_recompute(cost)}",
              file=stream)


def decoding_details(info: ModelInfo) -> dict[str, Any]:
    """`inspect`'s details for a causal LM without a KV cache: the sentence ("kv_note") and
    its figures ("decoding_cost", for --json); {} for any other model."""
    if info.kind != CAUSAL_LM or info.kv_cache:
        return {}
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.run.decoding_notice import WITHOUT_FIGURE, cost_figures, describe_recompute, model_notice

    try:
        # Unmapped side inputs are listed by `inspect`, not refused: the timing may then fail.
        cost = model_notice(OnnxCausalLM(info, strict_inputs=False))
    except Exception:  # no figure, but still the fix
        return {"kv_note": WITHOUT_FIGURE}
    if cost is None:
        return {}
    return {"kv_note": describe_recompute(cost), "decoding_cost": cost_figures(cost)}
