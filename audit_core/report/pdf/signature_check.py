"""The signature half of `mnemoscope verify`: every PAdES signature intact and valid, the
last one covering the whole file, and nothing added since the tool wrote the report but
signatures (pyHanko's difference analysis, from the file as written onwards).

Signer trust is reported, not required: an offline hospital certificate is rarely in any
trust store, and `--trust` names the roots to check against. Each signature says what it
is: an approval (approval.py: who, what decision, when), the issuer's signature made at
run time (not an approval), or a signature made by some other program.
"""

from __future__ import annotations

import logging
from datetime import UTC
from pathlib import Path

from .approval import read_approval
from .signing import FIELD_PREFIX, quiet_pyhanko
from .verification_outcome import Verification

ACCEPTED_LATER_CHANGES = ("NONE", "LTA_UPDATES", "FORM_FILLING")
_SIGNED_MARKERS = (b"/ETSI.CAdES.detached", b"/adbe.pkcs7")


def check_signatures(path: Path, data: bytes, written: int | None, result: Verification,
                     trust: list[Path]) -> None:
    """`written`: bytes of the file as the tool wrote it (its integrity record), or None
    when unknown; whatever follows must be signatures, or the file was changed."""
    appended = data[written:] if written is not None else b""
    added = bool(appended.strip())
    quiet_pyhanko()
    try:
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
    except ImportError:
        if any(marker in data for marker in _SIGNED_MARKERS):
            result.bad("The file is signed, but pyHanko is not installed to check the signature "
                       "(pip install 'mnemoscope[signing]').")
        elif added:
            result.bad(f"{len(appended)} bytes were added after the report was written.")
        else:
            result.note("Not digitally signed (and pyHanko, which checks signatures, is not installed).")
        return

    # pyHanko logs a traceback for every untrusted (self-signed) certificate; the outcome
    # is reported below in one line instead.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        with open(path, "rb") as stream:
            reader = PdfFileReader(stream, strict=False)
            signatures = list(reader.embedded_signatures)
            if not signatures:
                if added:
                    result.bad(f"{len(appended)} bytes were added after the report was written "
                               "(an unsigned update: edits, not signatures).")
                else:
                    result.note("Not digitally signed, so no approval signature yet (approvers add theirs "
                                "with `mnemoscope sign`); unsigned, these checks catch edits, not forgery.")
                return
            if written is not None and not _later_changes_are_signatures(reader, written):
                result.bad("The report was changed after it was written, before it was signed "
                           "(more than signatures were added).")
            roots = [load_cert_from_pemder(str(p)) for p in trust]
            # Only the roots given: offline, and never the operating system's trust list.
            context = ValidationContext(trust_roots=roots, allow_fetching=False)
            approvals = 0
            for index, signature in enumerate(signatures, start=1):
                status = validate_pdf_signature(signature, context)
                who = status.signing_cert.subject.human_friendly if status.signing_cert else "unknown signer"
                last = index == len(signatures)
                level = status.modification_level.name if status.modification_level else "UNKNOWN"
                covered = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
                if not (status.intact and status.valid):
                    result.bad(f"Signature {index} ({who}): broken; the signed content was changed.")
                    continue
                if last and not covered:
                    result.bad(f"Signature {index} ({who}): content was added after it was signed.")
                    continue
                if not last and level not in ACCEPTED_LATER_CHANGES:
                    result.bad(f"Signature {index} ({who}): later changes go beyond adding signatures ({level}).")
                    continue
                trusted = "trusted" if status.trusted else "signer not in the trust roots given (--trust)"
                approval = read_approval(_text(signature.sig_object.get("/Reason")),
                                         _text(signature.sig_object.get("/Name")))
                when = _when(status.signer_reported_dt)
                if approval is not None:
                    approvals += 1
                    result.approvals.append(approval)
                    result.good(f"Decision signed by {approval.approver}: {approval.describe()}, {when}.")
                    result.note(f"Signature {index}: intact and valid, certificate of {who}; {trusted}.")
                elif signature.field_name.startswith(FIELD_PREFIX):
                    result.good(f"Signature {index}: intact and valid; signed when issued by {who}, "
                                f"{when} (protects the file; not an approval); {trusted}.")
                else:
                    result.good(f"Signature {index}: intact and valid, signed by {who}, {when} "
                                f"(not a Mnemoscope approval); {trusted}.")
            if not approvals:
                result.note("No approval signature: add one after review with `mnemoscope sign`.")
    except Exception as exc:  # a damaged file: pyHanko raises many kinds
        result.bad(f"The signatures cannot be read: the file is damaged ({exc.__class__.__name__}).")


def _later_changes_are_signatures(reader, written: int) -> bool:
    """Every revision after the one the tool wrote adds signatures and nothing else. The
    per-signature checks judge what follows each signature, never the revision that adds
    the first one, where an edit could otherwise ride along with a signature."""
    if reader.total_revisions < 2 or reader.xrefs.get_xref_container_info(0).end_location > written:
        return False
    outcome = _policy().review_file(reader, 0)
    level = getattr(outcome, "modification_level", None)
    return level is not None and level.name in ACCEPTED_LATER_CHANGES


def _policy():
    """pyHanko's default policy, except that the first signature may set the form's
    /SigFlags (the report is written with an empty form and no flags: it has no
    signature yet, and says so)."""
    from pyhanko.sign import diff_analysis as d
    from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON

    lta = d.ModificationLevel.LTA_UPDATES
    return d.StandardDiffPolicy(
        global_rules=[d.CatalogModificationRule(), d.DocInfoRule().as_qualified(lta),
                      d.XrefStreamRule().as_qualified(lta), d.ObjectStreamRule().as_qualified(lta),
                      d.DSSCompareRule().as_qualified(lta), d.MetadataUpdateRule().as_qualified(lta)],
        form_rule=d.FormUpdatingRule(
            field_rules=[d.SigFieldCreationRule(), d.SigFieldModificationRule(),
                         d.GenericFieldModificationRule()],
            ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON | {"/SigFlags"}),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _when(moment) -> str:
    if moment is None:
        return "date not recorded"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
