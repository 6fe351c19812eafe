"""Turning reportlab's PDF into the archival file: PDF/A-3b with the results and the plan
embedded as associated files (compliance.md 4, 4.1).

reportlab has no PDF/A mode. pikepdf's `pdfa.save` adds the sRGB output intent and the
XMP conformance declaration, then reopens what it wrote and validates it, refusing to
write a file that does not pass. Two things reportlab does that PDF/A forbids are undone
first: the empty /Trans (page transition) entry on every page, and (in fonts.py and the
canvas) any use of the non-embedded standard fonts.

Last, the file's integrity record (seal.py) is filled in: the SHA-256 of the bytes just
written, kept in the document information dictionary, which is why object streams are
off (they would compress that dictionary out of reach).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pikepdf.pdfa

from ..sections.elements import ReportDocument
from .seal import PLACEHOLDER, SEAL_KEY, seal_bytes

FLAVOUR = "3b"
log = logging.getLogger(__name__)
RESULTS_KEY = "/MnemoscopeResultsSHA256"


def write_archival(pdf_bytes: bytes, document: ReportDocument,
                   attachments: Mapping[str, tuple[bytes, str]], target: Path) -> None:
    """Writes `pdf_bytes` to `target` as validated PDF/A-3b with `attachments`
    (name -> (bytes, description)) embedded, or as a plain PDF (with a warning) when it
    does not validate; then fills in its integrity record."""
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            if "/Trans" in page.obj:
                del page.obj["/Trans"]
        for name, (data, description) in attachments.items():
            pdf.attachments[name] = pikepdf.AttachedFileSpec(
                pdf, data, description=description, filename=name, mime_type="application/json",
                relationship=pikepdf.Name.Source,
            )
        now = _pdf_date(datetime.now(UTC))
        pdf.docinfo["/CreationDate"] = now
        pdf.docinfo["/ModDate"] = now
        if document.keywords:
            pdf.docinfo["/Keywords"] = document.keywords
        if document.results_digest:
            # Read back by `mnemoscope verify`, beside the hash printed on the cover.
            pdf.docinfo[RESULTS_KEY] = document.results_digest
        pdf.docinfo[SEAL_KEY] = PLACEHOLDER
        pdf.Root.Lang = pikepdf.String("en")
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        pdf.Root.PageMode = pikepdf.Name.UseOutlines
        plain = pikepdf.ObjectStreamMode.disable
        settings: dict = {"deterministic_id": True, "object_stream_mode": plain}
        try:
            settings = pikepdf.pdfa.save(pdf, target, FLAVOUR, **settings).save_kwargs
        except pikepdf.pdfa.PdfaError as exc:
            # Never lose the report over archival conformance: write it as a plain PDF
            # (attachments and all) and say so loudly.
            log.warning("the report could not be validated as PDF/A-3b and was written as a "
                        "plain PDF: %s", str(exc).splitlines()[0])
        # An empty form, so that signatures added later only add fields to it, which
        # `verify` tells apart from edits (pyHanko's difference analysis needs the form in
        # the revision it compares with). Added after validation because pikepdf's
        # validator does not check forms; PDF/A-3 allows one (ISO 19005-3, 6.4.1).
        pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array()))
        pdf.save(target, **settings)
    # The value has the placeholder's length: nothing else in the file moves.
    target.write_bytes(seal_bytes(target.read_bytes()))


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%SZ")
