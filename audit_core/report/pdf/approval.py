"""Approving a report after review: `mnemoscope sign REPORT.pdf` (and the desktop's
"Sign report…").

The sign-off the report asks for is a person's decision on what they read, so it is added
to the finished file, never at run time: a PAdES signature appended as an incremental
update (the report's bytes stay exactly as written, so its integrity record and any
earlier signature still verify). The signature dictionary, which the signature covers,
records who approved (/Name, as typed: "Name, role") and the decision with any conditions
(/Reason, in a fixed form that `verify` reads back). Several approvals (privacy officer,
then data protection officer) stack, each one covering the file as the previous left it.

Here: what an approval is and how a signature records it (also read back by
signature_check.py, for `verify`). Approving a file (sign_off.py) verifies it first, so it
sits above the verification: a report that does not verify is refused, as nobody should
approve an altered file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from audit_core.errors import MnemoscopeError

APPROVAL_PREFIX = "MnemoscopeApproval"
_REASON = "Mnemoscope approval: "
_CONDITIONS = ". Conditions: "
_LONGEST = 2000  # characters of conditions; a signature dictionary is no place for a memo


class Decision(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved-with-conditions"
    REJECTED = "rejected"


class ApprovalError(MnemoscopeError):
    """The report cannot be approved as asked (bad file, bad fields, does not verify)."""


@dataclass(frozen=True, slots=True)
class Approval:
    approver: str  # "Name, role", as the person typed it
    decision: Decision
    conditions: str = ""

    def reason(self) -> str:
        return _REASON + self.decision.value + (_CONDITIONS + self.conditions if self.conditions else "")

    def describe(self) -> str:
        """"approved-with-conditions (conditions: ...)": the decision as verify prints it."""
        return self.decision.value + (f" (conditions: {self.conditions})" if self.conditions else "")


def make_approval(approver: str, decision: str, conditions: str | None = None) -> Approval:
    """The approval from what a person typed; one-line ApprovalError when it is incomplete."""
    approver = " ".join((approver or "").split())
    conditions = " ".join((conditions or "").split())
    if not approver:
        raise ApprovalError("the approver is missing: give the name and role of the person who "
                            "decides, e.g. \"Jane Roe, Data Protection Officer\"")
    try:
        chosen = Decision(decision)
    except ValueError:
        raise ApprovalError(f"the decision must be one of {', '.join(d.value for d in Decision)} "
                            f"(got '{decision}')") from None
    if chosen is Decision.APPROVED_WITH_CONDITIONS and not conditions:
        raise ApprovalError("approved-with-conditions needs the conditions (--conditions TEXT)")
    if chosen is not Decision.APPROVED_WITH_CONDITIONS and conditions:
        raise ApprovalError(f"conditions go with approved-with-conditions, not with {chosen.value}")
    if len(conditions) > _LONGEST:
        raise ApprovalError(f"the conditions are {len(conditions)} characters long; keep them under "
                            f"{_LONGEST} and refer to a document for the rest")
    return Approval(approver, chosen, conditions)


def read_approval(reason: str | None, name: str | None) -> Approval | None:
    """The approval a signature records, or None for any other signature."""
    match = re.fullmatch(r"Mnemoscope approval: ([a-z-]+)(?:\. Conditions: (.*))?", reason or "", re.DOTALL)
    if match is None:
        return None
    try:
        decision = Decision(match.group(1))
    except ValueError:
        return None
    return Approval(" ".join((name or "").split()) or "an unnamed approver", decision, match.group(2) or "")
