"""Approving a report: `mnemoscope sign REPORT.pdf` and the desktop's "Sign report…".

The report is verified first (verification.py) and refused unless it does: nobody should
approve an altered file. Then the approval (approval.py: who, what decision, any
conditions) is appended as a PAdES signature in an incremental update (signing.py), so
the report's bytes, its integrity record and earlier signatures stay as they were.
"""

from __future__ import annotations

from pathlib import Path

from .approval import APPROVAL_PREFIX, Approval, ApprovalError
from .signing import ReportSigner
from .verification import verify_report


def check_approvable(path: Path) -> None:
    """An ApprovalError unless `path` is a Mnemoscope report that verifies."""
    if not path.is_file():
        raise ApprovalError(f"{path}: no such file")
    with open(path, "rb") as stream:
        if stream.read(5) != b"%PDF-":
            raise ApprovalError(f"{path}: not a PDF file")
    outcome = verify_report(path)
    if not outcome.ok:
        raise ApprovalError(f"{path}: {outcome.first_failure().rstrip('.')}; it was not signed")


def approve_report(path: Path, signer: ReportSigner, approval: Approval) -> None:
    """Checks that `path` is an unaltered Mnemoscope report, then appends the approval
    signature (atomically: on any error the file is left as it was)."""
    signer.load()  # a wrong password or certificate fails before the report is read
    check_approvable(path)
    signer.sign_in_place(path, reason=approval.reason(), name=approval.approver, field_prefix=APPROVAL_PREFIX)
