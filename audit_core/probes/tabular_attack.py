"""Turning a tabular signal into a probe outcome with the shared membership statistics."""

from __future__ import annotations

from audit_core.data.cohort import Role
from audit_core.passes.tabular_signals import Signal, calibrated_scores, signal_scores
from audit_core.probes.base import ProbeContext, ProbeOutcome
from audit_core.probes.membership_assessment import (
    REFERENCE_CALIBRATED,
    REFERENCE_FREE,
    assess_membership,
)

TABULAR_KINDS = ("tabular_classifier",)


def assess_signal(ctx: ProbeContext, signal: Signal, attack: str, *,
                  calibrated: bool = False) -> ProbeOutcome:
    ctx.progress.advance(0.0, "scoring the records")
    scores = (calibrated_scores if calibrated else signal_scores)(ctx.tabular_outputs(), signal)
    ctx.progress.advance(0.3, "membership statistics")
    return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx, attack,
                             REFERENCE_CALIBRATED if calibrated else REFERENCE_FREE)
