"""Verdicts, and how a probe's verdicts make the audit's.

The thresholds behind them live in the plan: each probe family's table in its module
(audit_core/families/), the split check's in plan/thresholds.py. Every one has a
documented default and is printed in the report next to the verdict it produced.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # the probe could not run; shown as "not assessed"


# Worst first. INCONCLUSIVE ranks just below WARN: it is never read as a PASS, and a
# probe that could not run leaves the audit no better than inconclusive.
_SEVERITY = {Verdict.PASS: 0, Verdict.INCONCLUSIVE: 1, Verdict.ERROR: 1, Verdict.WARN: 2,
             Verdict.FAIL: 3}


def worst(verdicts: list[Verdict]) -> Verdict:
    """The overall verdict: the worst probe verdict (a failed probe counts as inconclusive)."""
    if not verdicts:
        return Verdict.INCONCLUSIVE
    top = max(verdicts, key=lambda v: _SEVERITY[v])
    return Verdict.INCONCLUSIVE if top is Verdict.ERROR else top



def severity(verdict: Verdict) -> int:
    """How bad a verdict is, on the scale `worst` ranks by (PASS 0 … FAIL 3)."""
    return _SEVERITY[verdict]
