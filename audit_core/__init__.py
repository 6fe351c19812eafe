"""Mnemoscope's audit engine: does an ONNX model memorize the patients it was trained on?

The public API is small and cheap to import; the heavy modules (onnxruntime, pandas,
reportlab) load on first use inside `run_audit` and the report.
"""

import os

from audit_core.version import TOOL_NAME, __version__  # imports nothing: safe before the switches

# Nothing leaves the machine: should any library of the hub family be loaded (the
# control-model builders and `convert` use transformers), it must never try the network.
# Forced, not defaulted: a workstation's environment saying otherwise does not open it.
OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
                    "HF_HUB_DISABLE_TELEMETRY")
for _switch in OFFLINE_SWITCHES:
    os.environ[_switch] = "1"

__all__ = ["__version__", "TOOL_NAME", "run_audit", "load_plan", "AuditPlan"]


def __getattr__(name: str):  # lazy: `import audit_core` must stay light (no onnxruntime)
    if name == "run_audit":
        from audit_core.run.runner import run_audit

        return run_audit
    if name == "load_plan":
        from audit_core.plan.parsing import load_plan

        return load_plan
    if name == "AuditPlan":
        from audit_core.plan.parsing import AuditPlan

        return AuditPlan
    raise AttributeError(name)
