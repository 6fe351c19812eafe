"""What `mnemoscope verify` found: one line per check, OK only for a check that ran.

Its own module because both halves of the verification write to it: verification.py (the
integrity record, the embedded results, the printed digests) and signature_check.py (the
signatures and approvals), and verification.py calls signature_check.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Verification:
    ok: bool = True
    lines: list[str] = field(default_factory=list)
    approvals: list[Any] = field(default_factory=list)  # approval.Approval, in signing order

    def good(self, text: str) -> None:
        self.lines.append(f"OK    {text}")

    def bad(self, text: str) -> None:
        self.ok = False
        self.lines.append(f"FAIL  {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"      {text}")

    def first_failure(self) -> str:
        return next((line[6:] for line in self.lines if line.startswith("FAIL")), "")
