"""The Model step's note on an export without a KV cache: the sentence `mnemoscope inspect`
prints (run/decoding_notice.py), computed off the GUI thread, and where the app converts a
Hugging Face folder."""

from __future__ import annotations

from audit_core.models.inspection import ModelInfo

IMPORT_HINT = " (in this app: File ▸ Import a model…)"


def decoding_note(info: ModelInfo) -> str:
    """The sentence for `info`; without a figure (unmapped side inputs), still the fix."""
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.run.decoding_notice import WITHOUT_FIGURE, describe_recompute, model_notice

    try:
        cost = model_notice(OnnxCausalLM(info, strict_inputs=False))
    except Exception:  # a model that cannot be timed yet: the fix still holds
        return WITHOUT_FIGURE + IMPORT_HINT
    return (describe_recompute(cost) if cost is not None else WITHOUT_FIGURE) + IMPORT_HINT
