"""The audit report: results in, PDF out.

`write_report(results, path)` is all a caller needs. Importing this package is cheap: it
loads no reportlab until a PDF is actually written (the GUI and CLI import it at start).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .sections.document import build_report
from .sections.elements import ReportDocument

__all__ = ["ReportDocument", "build_report", "write_report"]


def write_report(results: Mapping[str, Any], path: Path, signer: Any = None) -> None:
    """Writes the PDF report for `results` (the content of results.json) to `path`, as
    PDF/A-3b with the shareable results and the plan embedded; signed (PAdES) when a
    `signing.ReportSigner` is given."""
    from .pdf.writer import write_pdf  # reportlab is heavy; only load it when writing
    from .sections.attachments import embedded_files
    from .sections.document import _plain
    from .sections.redaction import shareable

    status = signer.status_line() if signer is not None else None
    document = build_report(results, signature_status=status)
    write_pdf(document, path, embedded_files(shareable(_plain(results))), signer)
