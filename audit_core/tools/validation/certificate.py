"""Validation certificates: written as JSON (the record) and PDF (the printable copy), and
the latest one on this machine, which every audit's results.json cites.

Certificates go to a per-user folder: `$MNEMOSCOPE_VALIDATION_DIR` if set, else
`$XDG_DATA_HOME/mnemoscope/validations` (`~/.local/share/...`), or
`%LOCALAPPDATA%\\Mnemoscope\\validations` on Windows. `certificate_sha256` is the SHA-256
of the JSON file; the PDF prints it, so a printed copy can be matched to its record.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from audit_core.fingerprint import file_sha256
from audit_core.version import __version__

CERTIFICATE_SCHEMA = "mnemoscope.validation/1"
_PREFIX = "validation-"


def validation_dir() -> Path:
    override = os.environ.get("MNEMOSCOPE_VALIDATION_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "Mnemoscope" / "validations"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mnemoscope" / "validations"


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def write_certificate(certificate: dict[str, Any], folder: Path) -> tuple[Path, Path, str]:
    """Write JSON, then the PDF that cites the JSON's hash; return both paths and the hash."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = _PREFIX + certificate["date"].replace("-", "").replace(":", "")
    json_path, pdf_path = folder / f"{stem}.json", folder / f"{stem}.pdf"
    _atomic_write(json_path, (json.dumps(certificate, indent=2) + "\n").encode("utf-8"))
    digest = file_sha256(json_path)
    from audit_core.report.pdf.certificate import render_pdf

    _atomic_write(pdf_path, render_pdf(certificate, json_path.name, digest))
    return json_path, pdf_path, digest


def latest_validation(folder: Path | None = None) -> dict[str, Any]:
    """The latest validation on this machine, as every audit's results.json cites it.

    Never raises: an unreadable folder or file counts as no validation. Cheap (reads a
    few small JSON files; no hashing of the installation).
    """
    folder = validation_dir() if folder is None else folder
    best: tuple[str, Path, dict[str, Any]] | None = None
    try:
        candidates = sorted(folder.glob(f"{_PREFIX}*.json"))
    except OSError:
        candidates = []
    for path in candidates:
        try:
            certificate = json.loads(path.read_text(encoding="utf-8"))
            date = certificate["date"]
            if certificate.get("schema") != CERTIFICATE_SCHEMA or not isinstance(date, str):
                continue
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            continue
        if best is None or date > best[0]:
            best = (date, path, certificate)
    if best is None:
        return {"status": "never_validated", "date": None, "outcome": None,
                "certificate_sha256": None,
                "text": "This installation has never been validated on this machine "
                        "(run `mnemoscope validate`)."}
    date, path, certificate = best
    try:
        digest = file_sha256(path)
    except OSError:
        return {"status": "never_validated", "date": None, "outcome": None,
                "certificate_sha256": None, "text": "The latest validation certificate is unreadable."}
    tool_version = certificate.get("tool", {}).get("version")
    outcome = certificate.get("outcome")
    return {
        "status": "validated", "date": date, "outcome": outcome,
        "certificate_sha256": digest, "certificate": path.name,
        "tool_version": tool_version, "same_tool_version": tool_version == __version__,
        "machine": certificate.get("machine", {}).get("hostname"),
        "text": f"Latest validation on this machine: {date}, {str(outcome).upper()} "
                f"(certificate {path.name}, SHA-256 {digest[:16]}...)"
                + ("" if tool_version == __version__ else
                   f"; it validated version {tool_version}, not this version {__version__}"),
    }
