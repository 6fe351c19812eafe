"""`mnemoscope verify REPORT.pdf`: is this the report the tool wrote, unchanged, and who
approved it?

Each check is reported on its own line, and a line says OK only for a check that ran:
1. the file's integrity record (seal.py): its bytes, as the tool wrote them, hash to the
   SHA-256 the file records, so one flipped byte anywhere in them is caught;
2. every digital signature is intact and valid, the last one covers the whole file, and
   nothing but signatures was added after the tool wrote it (signature_check.py); each
   approval (`mnemoscope sign`) is listed with who decided what, and when;
3. the embedded results.json hashes (canonical JSON, SHA-256) to the value the document
   information dictionary records, and the embedded plan.json is the plan inside it;
4. every results SHA-256 the pages print matches (read with poppler's pdftotext, over the
   whole document, wherever the layout puts it); without pdftotext this is said to be
   not checked.

An unsigned report proves little on its own: anyone can regenerate a matching PDF from
altered results. The checks catch edits to a report, not forgeries of a whole one.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sections.attachments import PLAN_NAME, RESULTS_NAME, digest
from .archival import RESULTS_KEY
from .seal import read_seal
from .signature_check import check_signatures
from .verification_outcome import Verification

_PRINTED = re.compile(r"(?i)results SHA-256\s+((?:[0-9a-f]\s*){16,64})")
_FULL = 64


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
    seal = read_seal(data)
    written = seal.length if seal is not None and seal.intact else None
    # The content checks read the file as the tool wrote it; what came after is the
    # signature checks' to judge.
    embedded = _embedded(data[:written] if written else data, result)
    if embedded is None:
        return result
    _identify(embedded, result)
    if seal is None:
        result.bad("The file has no integrity record: it was not written by Mnemoscope, or "
                   "another program rewrote it.")
    elif not seal.intact:
        result.bad("The file is not the one Mnemoscope wrote: its bytes no longer match its "
                   "integrity record (altered or damaged).")
    else:
        result.good(f"The file is byte for byte as Mnemoscope wrote it (integrity record over "
                    f"{seal.length:,} bytes).")
    check_signatures(path, data, written, result, trust or [])
    _check_results(path, embedded, result)
    if extract is not None:
        _extract(embedded, extract, result)
    return result


@dataclass
class _Embedded:
    results: bytes
    plan: bytes | None
    recorded: str


def _embedded(data: bytes, result: Verification) -> _Embedded | None:
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            attachments = pdf.attachments
            if RESULTS_NAME not in attachments:
                result.bad("No results.json is embedded: this is not a report written by Mnemoscope.")
                return None
            return _Embedded(
                results=attachments[RESULTS_NAME].get_file().read_bytes(),
                plan=attachments[PLAN_NAME].get_file().read_bytes() if PLAN_NAME in attachments else None,
                recorded=str(pdf.docinfo.get(RESULTS_KEY, "")))
    except Exception as exc:  # a damaged stream or structure: pikepdf/qpdf raise several kinds
        result.bad(f"The file cannot be read as a PDF ({exc.__class__.__name__}): damaged or not a report.")
        return None


def _identify(embedded: _Embedded, result: Verification) -> None:
    try:
        audit = json.loads(embedded.results.decode("utf-8")).get("audit")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return  # said below, with the checks
    if isinstance(audit, dict):
        result.note(f"Report {audit.get('report_id') or audit.get('id')}: {audit.get('title')} "
                    f"(outcome: {audit.get('outcome')}).")


def _check_results(path: Path, embedded: _Embedded, result: Verification) -> None:
    try:
        results = json.loads(embedded.results.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        result.bad("The embedded results.json is not valid JSON: it was altered.")
        return
    actual = digest(results)
    if not embedded.recorded:
        result.bad("The file records no results SHA-256: not a report written by Mnemoscope.")
    elif embedded.recorded != actual:
        result.bad(f"The embedded results.json hashes to {actual[:16]}…, the file records "
                   f"{embedded.recorded[:16]}…: results or record altered.")
    else:
        result.good(f"The embedded results.json hashes to the results SHA-256 the file records: {actual}.")
    _check_plan(results, embedded.plan, result)
    _check_printed(path, actual, result)


def _check_plan(results: Any, plan: bytes | None, result: Verification) -> None:
    inside = results.get("plan") if isinstance(results, dict) else None
    if plan is None:
        if inside:
            result.bad("No plan.json is embedded, though results.json holds a plan: it was removed.")
        return
    try:
        same = json.loads(plan.decode("utf-8")) == inside
    except (UnicodeDecodeError, json.JSONDecodeError):
        same = False
    if same:
        result.good("The embedded plan.json is the plan recorded in results.json.")
    else:
        result.bad("The embedded plan.json is not the plan recorded in results.json: one of them was altered.")


def _check_printed(path: Path, actual: str, result: Verification) -> None:
    printed = _printed_hashes(path)
    if printed is None:
        result.note("The results SHA-256 printed in the report was NOT checked: poppler's "
                    "pdftotext is not installed to read the pages.")
        return
    wrong = [h for h in printed if not actual.startswith(h)]
    full = [h for h in printed if len(h) == _FULL]
    if wrong:
        result.bad(f"The report prints results SHA-256 {wrong[0][:16]}…, the embedded results hash "
                   f"to {actual[:16]}…: its pages were altered or come from another report.")
    elif not full:
        result.bad("The report's pages print no full results SHA-256: they were altered, or this "
                   "is not a Mnemoscope report.")
    else:
        result.good(f"The results SHA-256 printed in the report matches, in full "
                    f"({len(full)}×) and in every shortened form ({len(printed) - len(full)}×).")


def _printed_hashes(path: Path) -> list[str] | None:
    """Every results SHA-256 (full or shortened) the pages print; None when unreadable."""
    if shutil.which("pdftotext") is None:
        return None
    try:
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                              text=True, encoding="utf-8", errors="replace", check=True,
                              timeout=120).stdout
    except (subprocess.SubprocessError, OSError):
        return []  # poppler cannot read the pages: reported as nothing printed
    return ["".join(match.group(1).split())[:_FULL] for match in _PRINTED.finditer(text)]


def _extract(embedded: _Embedded, folder: Path, result: Verification) -> None:
    """Writes the embedded files into `folder`, never over a different file: DIR may be an
    audit's own folder, whose full results.json the report's redacted copy must not replace."""
    from audit_core.errors import MnemoscopeError
    from audit_core.results.atomic import write_atomic  # never a half-written file left there

    files = {RESULTS_NAME: embedded.results}
    if embedded.plan is not None:
        files[PLAN_NAME] = embedded.plan
    for name, data in files.items():
        path = folder / name
        if path.exists() and not (path.is_file() and path.read_bytes() == data):
            raise MnemoscopeError(f"{path} already exists and differs from the copy in the report; "
                                  "it is never overwritten: choose an empty folder for --extract")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            write_atomic(folder / name, data)
    except OSError as exc:
        raise MnemoscopeError(f"cannot write the embedded files into {folder} "
                              f"({exc.strerror or exc.__class__.__name__})") from None
    result.note(f"Embedded files written to {folder}.")
