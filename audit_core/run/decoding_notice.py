"""The sentence that says what an export without a KV cache costs, and how to fix it, for
`mnemoscope inspect`, the plan check before `mnemoscope run` and the desktop Model step:
one formatting function over one computation (kinds/decoding_cost.py), so the three say
the same figure in the same words.
"""

from __future__ import annotations

from typing import Any

from audit_core.kinds.decoding_cost import PLAN, RecomputeCost, nominal_cost, plan_cost
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.plan.parsing import AuditPlan
from audit_core.run.calibration import load_calibration
from audit_core.run.estimate import describe_duration
from audit_core.version import TOOL_NAME

CONVERT_COMMAND = f"{TOOL_NAME} convert HF_FOLDER OUT_DIR"
# Said when no figure could be computed (a model whose side inputs are not mapped yet).
WITHOUT_FIGURE = ("generation recomputes the whole sequence at every step; convert the Hugging "
                  f"Face folder with `{CONVERT_COMMAND}` to get a KV export")


def describe_recompute(cost: RecomputeCost) -> str:
    """"generation recomputes the whole sequence at every step, about 9.4× slower on this
    plan's generating probes (...): about 6 min more; convert ... to get a KV export"."""
    factor = cost.factor
    times = f"{factor:.0f}×" if factor >= 10 else f"{factor:.1f}×"
    source = ("from the workstation calibration" if cost.rates.source == "calibration"
              else "timed on this model")
    if cost.basis == PLAN:
        where = (f"on this plan's generating probes ({', '.join(cost.probes)}; {source}): about "
                 f"{describe_duration(cost.extra_seconds())} more")
    else:
        where = f"on the standard generating probes at their default settings ({source})"
    return (f"generation recomputes the whole sequence at every step, about {times} slower "
            f"{where}; convert the Hugging Face folder with `{CONVERT_COMMAND}` to get a KV export")


def cost_figures(cost: RecomputeCost) -> dict[str, Any]:
    """The same figures for `inspect --json`."""
    return {"factor": round(cost.factor, 2), "extra_seconds": round(cost.extra_seconds(), 1),
            "basis": cost.basis, "rates_from": cost.rates.source, "probes": list(cost.probes),
            "sentence": describe_recompute(cost)}


def plan_notice(plan: AuditPlan, calibration: dict[str, Any] | None | bool = None) -> RecomputeCost | None:
    """The plan's cost, or None (a KV export, or no generating probe). `calibration`: None
    reads the stored one, False ignores it."""
    stored = load_calibration() if calibration is None else (calibration or None)
    return plan_cost(plan, stored if isinstance(stored, dict) else None)


def model_notice(model: OnnxCausalLM, calibration: dict[str, Any] | None | bool = None) -> RecomputeCost | None:
    """The nominal cost for a model seen without a plan, or None for a KV export."""
    stored = load_calibration() if calibration is None else (calibration or None)
    return nominal_cost(model, stored if isinstance(stored, dict) else None)
