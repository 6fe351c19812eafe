"""The commands that act on a finished report: `verify` (is it the file the tool wrote,
unchanged, and who approved it?) and `sign` (approve it, after review).

Kept apart from cli.py, which runs audits; both print one line and exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


def add_report_commands(commands: Any) -> None:
    verify = commands.add_parser("verify", help="check a report: unchanged since written, its "
                                                "signatures and approvals, its embedded results")
    verify.add_argument("report", type=Path, help="report PDF written by mnemoscope")
    verify.add_argument("--trust", type=Path, action="append", default=[], metavar="CERT",
                        help="trusted root certificate (PEM or DER) for the signer; repeatable")
    verify.add_argument("--extract", type=Path, metavar="DIR",
                        help="also write the embedded results.json and plan.json into DIR")
    verify.set_defaults(handler=verify_command)

    sign = commands.add_parser(
        "sign", help="approve (or reject) a report after review: adds a PAdES signature that "
                     "records who decided what; repeat for each approver")
    sign.add_argument("report", type=Path, help="report PDF written by mnemoscope (signed in place)")
    sign.add_argument("--p12", type=Path, required=True, metavar="FILE",
                      help="the approver's PKCS#12 certificate; the password comes from "
                           "$MNEMOSCOPE_SIGNING_PASSWORD or a prompt")
    sign.add_argument("--approver", required=True, metavar="'NAME, ROLE'",
                      help="who decides, e.g. 'Jane Roe, Data Protection Officer'")
    sign.add_argument("--decision", required=True,
                      choices=("approved", "approved-with-conditions", "rejected"))
    sign.add_argument("--conditions", metavar="TEXT",
                      help="the conditions (required with approved-with-conditions)")
    sign.set_defaults(handler=sign_command)


def load_signer(pkcs12: Path):
    """The certificate, opened now so that a wrong password fails before any work."""
    import getpass

    from audit_core.report.pdf.signing import ReportSigner, passphrase_from_environment

    passphrase = passphrase_from_environment()
    if passphrase is None and sys.stdin.isatty():
        passphrase = getpass.getpass(f"Password for {pkcs12.name}: ").encode("utf-8") or None
    signer = ReportSigner(pkcs12, passphrase)
    signer.load()
    return signer


def verify_command(args: argparse.Namespace) -> int:
    from audit_core.report.pdf.verification import verify_report

    outcome = verify_report(args.report, trust=args.trust, extract=args.extract)
    print("\n".join(outcome.lines))
    print(f"{args.report}: {'verified' if outcome.ok else 'NOT VERIFIED: do not rely on this file'}")
    return 0 if outcome.ok else EXIT_BAD_INPUT


def sign_command(args: argparse.Namespace) -> int:
    from audit_core.report.pdf.approval import make_approval
    from audit_core.report.pdf.sign_off import approve_report, check_approvable

    approval = make_approval(args.approver, args.decision, args.conditions)
    check_approvable(args.report)  # a wrong file is named before the password is asked
    approve_report(args.report, load_signer(args.p12), approval)
    print(f"{args.report}: signed by {approval.approver}: {approval.describe()}. "
          f"Check it with: mnemoscope verify {args.report}")
    return 0
