"""The canvas that draws what every page carries: the footer (report id, page X of Y,
"Contains no patient data", and INCOMPLETE AUDIT when it applies) and, after the cover,
a header naming the section and the overall verdict.

Pages are printed and handed around separately; each must say which report it belongs
to and whether any are missing (compliance.md 6.17).
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..sections.elements import ReportDocument
from ..sections.verdicts import verdict_word
from .fonts import FontSet
from .styles import MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, MUTED, PAGE, RULE, TEXT_WIDTH


class PagedCanvas(Canvas):
    """Holds every page back until the end, so each footer can say "page X of Y"."""

    def __init__(self, *args: Any, document: ReportDocument, fonts: FontSet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._document = document
        self._fonts = fonts
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()
        # The next page starts inside the section that was running (writer.py replaces it
        # when a section title opens the page).
        self.page_title = getattr(self, "section_title", "")

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_page_furniture(number, total)
            super().showPage()
        super().save()

    def _draw_page_furniture(self, number: int, total: int) -> None:
        width, _ = PAGE
        doc, fonts = self._document, self._fonts
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        footer_y = MARGIN_BOTTOM - 12 * mm
        self.line(MARGIN_X, footer_y + 10, width - MARGIN_X, footer_y + 10)
        self.setFont(fonts.sans, 7.5)
        self.setFillColor(MUTED)
        left = f"Report {doc.report_id}"
        if doc.results_digest:
            left += f" · results SHA-256 {doc.results_digest[:16]}…"
        self.drawString(MARGIN_X, footer_y, left)
        self.drawRightString(width - MARGIN_X, footer_y, f"Page {number} of {total}")
        self.setFont(fonts.bold, 7)
        self.drawCentredString(width / 2, footer_y - 10, " · ".join(doc.footer_notes))
        if number > 1:
            # Pages get separated when printed: each says what it belongs to.
            header_y = PAGE[1] - MARGIN_TOP + 16
            self.setFont(fonts.sans, 7.5)
            heading = getattr(self, "page_title", "") or getattr(self, "section_title", "") or doc.title
            self.drawString(MARGIN_X, header_y, _fit(heading, fonts.sans, 7.5, TEXT_WIDTH * 0.7))
            self.drawRightString(width - MARGIN_X, header_y, f"Overall verdict: {verdict_word(doc.verdict)}")
            self.line(MARGIN_X, header_y - 4, width - MARGIN_X, header_y - 4)
        self.restoreState()


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
