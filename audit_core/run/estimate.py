"""How long will this audit take? A quick calibration before the user presses Start.

Each model kind estimates its own audit (kinds/estimates.py, listed in kinds.KINDS); this
picks the kind from the model's ONNX signature, as the runner does, and reads this
workstation's calibration (`mnemoscope bench`, run/calibration.py) for it. It is an
estimate for planning a coffee break, not a measurement: the report never uses it.
"""

from __future__ import annotations

from typing import Any

from audit_core.kinds import kind_for
from audit_core.kinds.base import Estimate
from audit_core.kinds.memory_need import describe_memory
from audit_core.models.inspection import model_kind
from audit_core.plan.parsing import AuditPlan
from audit_core.run.calibration import load_calibration
from audit_core.work.progress import CancelToken, Progress, ProgressCallback, ignore_progress

__all__ = ["Estimate", "SAMPLE_RECORDS", "describe_duration", "describe_memory", "estimate_run"]

SAMPLE_RECORDS = 48


def estimate_run(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
                 cancel: CancelToken | None = None, sample: int = SAMPLE_RECORDS,
                 calibration: dict[str, Any] | None | bool = None) -> Estimate:
    """`calibration`: None reads the stored one (run/calibration.py), False ignores it."""
    kind = model_kind(plan.model.path)
    stored = load_calibration() if calibration is None else (calibration or None)
    return kind_for(kind).estimate(plan, kind, Progress(on_progress, cancel), sample,
                                   stored if isinstance(stored, dict) else None)


def describe_duration(seconds: float) -> str:
    """Rounded for planning: "40 s", "12 min", "3 h 20 min"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
