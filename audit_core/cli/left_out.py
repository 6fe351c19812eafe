"""Before the run, the CLI says which probes of the standard suite do not apply to the
plan's records and why (probes.applicability), so a notes audit never surprises its user
with a code test, and a missing result is explained before it is missed."""

from __future__ import annotations

from typing import TextIO

from audit_core.plan.parsing import AuditPlan
from audit_core.version import TOOL_NAME


def print_left_out(plan: AuditPlan, stream: TextIO) -> None:
    from audit_core.models.inspection import CAUSAL_LM, UNKNOWN, model_kind
    from audit_core.probes.selection import left_out_for_records

    try:
        kind = model_kind(plan.model.path)
    except Exception:  # the run reports an unreadable model with its proper message
        return
    for item in left_out_for_records(plan, CAUSAL_LM if kind == UNKNOWN else kind):
        print(f"{TOOL_NAME}: left out: {item['title']} ({item['id']}): {item['reason']}", file=stream)
