"""Before the run, the CLI says which reference model will calibrate the attacks, in the
report's words (results/reference_role.py), so a plan whose reference is the base model
(or is not) is seen before hours of scoring, not read afterwards in the PDF."""

from __future__ import annotations

from typing import TextIO

from audit_core.plan.parsing import AuditPlan
from audit_core.results.reference_role import reference_wording
from audit_core.version import TOOL_NAME


def reference_line(plan: AuditPlan) -> str | None:
    """One line naming the reference folder and what it is; None without a reference."""
    if plan.model.reference is None:
        return None
    return (f"{TOOL_NAME}: reference model: {plan.model.reference.name} "
            f"(reference_role = \"{plan.model.reference_role}\": "
            f"{reference_wording(plan.model.reference_role)}); "
            "it calibrates the reference-calibrated attacks")


def print_reference(plan: AuditPlan, stream: TextIO) -> None:
    line = reference_line(plan)
    if line is not None:
        print(line, file=stream)
