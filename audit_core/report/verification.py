"""`mnemoscope verify REPORT.pdf`: is this the report the tool wrote, unchanged?

Three checks, each reported on its own line:
1. every digital signature is intact and valid, and the last one covers the whole file
   (anything appended after it is tampering); signer trust is reported, not required,
   since an offline hospital certificate is rarely in any trust store;
2. the embedded results.json hashes (canonical JSON, SHA-256) to the value the file
   records, and to the hash printed on the cover (read with pdftotext when poppler is
   installed);
3. the file is a PDF the tool can open, with the embedded results.

An unsigned report proves little on its own: anyone can regenerate a matching PDF from
altered results. The check catches edits to a report, not forgeries of a whole one.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .archival import RESULTS_KEY
from .attachments import PLAN_NAME, RESULTS_NAME, digest

ACCEPTED_LATER_CHANGES = ("NONE", "LTA_UPDATES", "FORM_FILLING")


@dataclass
class Verification:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def good(self, text: str) -> None:
        self.lines.append(f"OK    {text}")

    def bad(self, text: str) -> None:
        self.ok = False
        self.lines.append(f"FAIL  {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"      {text}")


def verify_report(path: Path, trust: list[Path] | None = None, extract: Path | None = None) -> Verification:
    result = Verification()
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.bad(f"{path}: cannot read the file ({exc.strerror or exc.__class__.__name__})")
        return result
    if not data.startswith(b"%PDF-"):
        result.bad(f"{path}: not a PDF file")
        return result
    _check_signatures(path, result, trust or [])
    _check_results(path, result, extract)
    return result


def _check_signatures(path: Path, result: Verification, trust: list[Path]) -> None:
    try:
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
    except ImportError:
        if b"/ETSI.CAdES.detached" in path.read_bytes() or b"/adbe.pkcs7" in path.read_bytes():
            result.bad("The file is signed, but pyHanko is not installed to check the signature "
                       "(pip install 'mnemoscope[signing]').")
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
                result.note("Not digitally signed: the checks below detect edits, not a forged report.")
                return
            roots = [load_cert_from_pemder(str(p)) for p in trust]
            # Only the roots given: offline, and never the operating system's trust list.
            context = ValidationContext(trust_roots=roots, allow_fetching=False)
            for index, signature in enumerate(signatures):
                status = validate_pdf_signature(signature, context)
                who = status.signing_cert.subject.human_friendly if status.signing_cert else "unknown signer"
                last = index == len(signatures) - 1
                level = status.modification_level.name if status.modification_level else "UNKNOWN"
                covered = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
                if not (status.intact and status.valid):
                    result.bad(f"Signature {index + 1} ({who}): broken; the signed content was changed.")
                elif last and not covered:
                    result.bad(f"Signature {index + 1} ({who}): content was added after it was signed.")
                elif not last and level not in ACCEPTED_LATER_CHANGES:
                    result.bad(f"Signature {index + 1} ({who}): later changes go beyond adding signatures ({level}).")
                else:
                    trusted = "trusted" if status.trusted else "signer not in the trust roots given (--trust)"
                    result.good(f"Signature {index + 1}: intact and valid, signed by {who}; {trusted}.")
    except Exception as exc:  # a damaged file: pyHanko raises many kinds
        result.bad(f"The signatures cannot be read: the file is damaged ({exc.__class__.__name__}).")


def _check_results(path: Path, result: Verification, extract: Path | None) -> None:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            attachments = pdf.attachments
            if RESULTS_NAME not in attachments:
                result.bad("No results.json is embedded: this is not a report written by the tool.")
                return
            embedded = attachments[RESULTS_NAME].get_file().read_bytes()
            plan = attachments[PLAN_NAME].get_file().read_bytes() if PLAN_NAME in attachments else None
            recorded = str(pdf.docinfo.get(RESULTS_KEY, ""))
    except Exception as exc:
        result.bad(f"The file cannot be opened as a PDF ({exc.__class__.__name__}): damaged or not a report.")
        return
    try:
        actual = digest(json.loads(embedded.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        result.bad("The embedded results.json is not valid JSON: it was altered.")
        return
    if recorded and recorded != actual:
        result.bad(f"The embedded results.json hashes to {actual[:16]}…, the file records {recorded[:16]}…: altered.")
    printed = _cover_hash(path)
    if printed is None:
        result.note("The cover's text could not be read (pdftotext not installed); compared with the recorded hash only.")
    elif printed != actual:
        result.bad(f"The cover prints results SHA-256 {printed[:16]}…, the embedded results hash to {actual[:16]}…: altered.")
    if result.ok:
        result.good(f"Embedded results.json matches the results SHA-256 on the cover: {actual}.")
    if extract is not None:
        from audit_core.outputs import write_atomic  # never a half-written file left there

        extract.mkdir(parents=True, exist_ok=True)
        write_atomic(extract / RESULTS_NAME, embedded)
        if plan is not None:
            write_atomic(extract / PLAN_NAME, plan)
        result.note(f"Embedded files written to {extract}.")


def _cover_hash(path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    try:
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(path), "-"],
                              capture_output=True, text=True, check=True, timeout=60).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    match = re.search(r"Results SHA-256\s+([0-9a-f]{64})", text)
    return match.group(1) if match else ""
