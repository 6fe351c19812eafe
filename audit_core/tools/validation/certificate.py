"""Validation certificates: written as JSON (the record) and PDF (the printable copy). The
latest one on this machine, which every audit's results.json cites, is read by
run/validation_record.py (re-exported here).

Certificates go to a per-user folder: `$MNEMOSCOPE_VALIDATION_DIR` if set, else
`$XDG_DATA_HOME/mnemoscope/validations` (`~/.local/share/...`), or
`%LOCALAPPDATA%\\Mnemoscope\\validations` on Windows. `certificate_sha256` is the SHA-256
of the JSON file; the PDF prints it, so a printed copy can be matched to its record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit_core.fingerprint import file_sha256

# Where certificates live and which one is the latest belong to the run path (every audit
# cites the latest): run/validation_record.py; re-exported here for the validate command.
from audit_core.run.validation_record import CERTIFICATE_SCHEMA, latest_validation, validation_dir
from audit_core.run.validation_record import PREFIX as _PREFIX

__all__ = ["CERTIFICATE_SCHEMA", "latest_validation", "validation_dir", "write_certificate"]


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
