"""The audit report: results in, PDF out.

`write_report(results, path)` is all a caller needs. Importing this package is cheap: it
loads no reportlab until a PDF is actually written (the GUI and CLI import it at start).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .document import build_report
from .elements import ReportDocument

__all__ = ["ReportDocument", "build_report", "write_report"]


def write_report(results: Mapping[str, Any], path: Path) -> None:
    """Writes the PDF report for `results` (the content of results.json) to `path`."""
    from .pdf import write_pdf  # reportlab is heavy; only load it when writing

    write_pdf(build_report(results), path)
