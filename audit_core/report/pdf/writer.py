"""`write_pdf`: lays a `ReportDocument` out as an A4 PDF with reportlab platypus.

The only module that knows platypus. It decides how things look, never what is said:
that is `build_report`'s job, and its output is printed as given.

The file appears at its path complete or not at all: it is written to a temporary file in
the same folder and moved into place with `os.replace` (atomic on one file system), so a
crash or a full disk never leaves a half-written report that looks finished (DESIGN.md,
"Patient data rules").
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from ..sections import elements as el
from .archival import write_archival
from .code_lines import Listing, wrap_code_lines
from .figures import Anchor, figure_flowable, signature_flowable, single_chart
from .fonts import FontSet, register_fonts
from .page_canvas import PagedCanvas
from .styles import (
    ACCENT,
    ALERT,
    ALERT_FILL,
    ALIGNMENTS,
    HEADER_FILL,
    KEY_FILL,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PAGE,
    RULE,
    TEXT_WIDTH,
    Styles,
    make_styles,
    verdict_colours,
)
from .table_layout import table_fonts, table_widths

BADGE_WIDTH = 78.0
# The room a heading needs below it on the page: itself and a few lines of what follows.
HEADING_ROOM = 80.0


def write_pdf(
    document: el.ReportDocument,
    path: Path | str,
    attachments: Mapping[str, tuple[bytes, str]] | None = None,
    signer: Any = None,
) -> None:
    """Lays out `document`, writes it as validated PDF/A-3b with `attachments` embedded
    and, when `signer` (a signing.ReportSigner) is given, signs it (PAdES)."""
    path = Path(path)
    fonts = register_fonts()
    buffer = io.BytesIO()
    _build(document, buffer, fonts)
    # Same folder as the target: os.replace is only atomic within one file system.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    try:
        write_archival(buffer.getvalue(), document, attachments or {}, Path(temporary))
        if signer is not None:
            signer.sign_in_place(Path(temporary))
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); a report is meant to be read and printed.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _build(document: el.ReportDocument, stream: Any, fonts: FontSet) -> None:
    styles = make_styles(fonts)
    template = _ReportTemplate(stream, document, fonts)
    story = _Story(styles, fonts).flowables(document)
    canvas = functools.partial(PagedCanvas, document=document, fonts=fonts)
    template.build(story, canvasmaker=canvas)


class _ReportTemplate(BaseDocTemplate):
    def __init__(self, stream: Any, document: el.ReportDocument, fonts: FontSet) -> None:
        super().__init__(
            stream,
            pagesize=PAGE,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=document.title,
            author=document.author,
            subject=document.subject,
            creator="Mnemoscope",
            keywords=document.keywords,
            lang="en",
            # Same document, same bytes from reportlab: reproducible reports (the issue
            # date is set afterwards, in archival.py).
            invariant=1,
            # The canvas's own starting font is emitted even if never used: make it ours.
            initialFontName=fonts.sans,
            initialFontSize=9,
        )
        frame = Frame(
            self.leftMargin, self.bottomMargin, self.width, self.height,
            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body",
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])

    def afterFlowable(self, flowable: Flowable) -> None:
        outline = getattr(flowable, "outline", None)
        if outline is not None:
            key, title, level = outline
            if level == 0:
                # Read back by the page header, so a continuation page says what it is:
                # the section running at the top of the page, or the one that opens it.
                self.canv.section_title = title
                used = self.frame._y2 - self.frame._y
                if used <= getattr(flowable, "height", 0) + 24 or not getattr(self.canv, "page_title", ""):
                    self.canv.page_title = title
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(title, key, level=level, closed=False)
            self.canv.showOutline()


class _Story:
    """Turns document blocks into platypus flowables."""

    def __init__(self, styles: Styles, fonts: FontSet) -> None:
        self.styles = styles
        self.fonts = fonts
        self._aligned: dict[tuple[str, str], ParagraphStyle] = {}

    def flowables(self, document: el.ReportDocument) -> list[Flowable]:
        story: list[Flowable] = []
        for index, section in enumerate(document.sections):
            if index and section.new_page:
                story.append(PageBreak())
            elif index:
                # A short section follows on the same page, unless too little is left for
                # its title and first lines.
                story += [Spacer(1, 10), CondPageBreak(160)]
            key = f"section-{index}"
            part: list[Flowable] = []
            if section.show_title:
                title = Paragraph(self.text(section.title), self.styles.section)
                title.outline = (key, section.title, 0)
                part += [title, HRFlowable(width="100%", thickness=0.8, color=ACCENT, spaceBefore=0, spaceAfter=8)]
            else:
                part.append(Anchor((key, section.title, 0)))
            for number, block in enumerate(section.blocks):
                following = section.blocks[number + 1] if number + 1 < len(section.blocks) else None
                if isinstance(block, el.Heading) and isinstance(following, el.Heading):
                    part.append(CondPageBreak(2 * HEADING_ROOM))  # both headings, and what follows
                part += self.block(block, f"{key}-{number}")
            # KeepTogether splits a section taller than a page as it would have anyway.
            story += [KeepTogether(part)] if section.keep_together else part
        return story

    def block(self, block: el.Block, key: str) -> list[Flowable]:
        s = self.styles
        match block:
            case el.Heading(text=text, level=level):
                style = s.heading2 if level <= 2 else s.heading3
                heading = Paragraph(self.text(text), style)
                if level <= 2:
                    heading.outline = (key, text, 1)
                # A heading never ends a page; yet it does not drag a long table after it
                # onto the next page either (keepWithNext would, leaving a gap behind).
                return [CondPageBreak(HEADING_ROOM), heading]
            case el.Paragraph(text=text, style=el.TextStyle.ALERT):
                return [self.alert(text), Spacer(1, 8)]
            case el.Paragraph(text=text, style=style):
                return [Paragraph(self.text(text), s.text[style])]
            case el.BulletList(items=items):
                return [Paragraph(self.text(item), s.bullet, bulletText="•") for item in items]
            case el.Table():
                return self.table(block)
            case el.VerdictBanner():
                return [self.banner(block), Spacer(1, 6)]
            case el.Figure():
                return [figure_flowable(block, s, self.fonts, self.text)]
            case el.RocChart() | el.HistogramChart() | el.IntervalChart() | el.StackedBarChart():
                return [single_chart(block, s, self.fonts, self.text)]
            case el.SignatureLines():
                return [signature_flowable(block, s, self.fonts, self.text)]
            case el.Preformatted(text=text):
                return [Listing(self.code_lines(text), s.code_block)]
        raise TypeError(f"the PDF writer has no layout for {type(block).__name__}")

    def text(self, text: str, mono: bool = False) -> str:
        """Paragraph markup for plain text: escaped, and every character the font lacks
        drawn from the other font, or written as its code point if neither has it. In
        running text, `a command` between backticks is set in the monospace font."""
        text = str(text)
        if not mono and text.count("`") >= 2 and text.count("`") % 2 == 0:
            pieces = text.split("`")
            return "".join(
                f'<font face="{self.fonts.mono}">{self.text(piece, mono=True)}</font>' if index % 2
                else self.text(piece) for index, piece in enumerate(pieces))
        own, other = (self.fonts.mono_chars, None) if mono else (self.fonts.sans_chars, self.fonts.mono_chars)
        parts = []
        for char in text:
            if char == "\n":
                parts.append("<br/>")
            elif char.isspace():
                parts.append(" ")
            elif ord(char) in own:
                parts.append(escape(char))
            elif other is not None and ord(char) in other:
                parts.append(f'<font face="{self.fonts.mono}">{escape(char)}</font>')
            else:
                parts.append(f"[U+{ord(char):04X}]")
        return "".join(parts)

    def aligned(self, style: ParagraphStyle, align: el.Align) -> ParagraphStyle:
        key = (style.name, align.value)
        if key not in self._aligned:
            self._aligned[key] = ParagraphStyle(f"{style.name}-{align.value}", parent=style, alignment=ALIGNMENTS[align])
        return self._aligned[key]

    def cell(self, cell: el.Cell, style: ParagraphStyle, align: el.Align, width: float,
             factor: float = 1.0) -> Flowable:
        match cell:
            case el.Badge():
                return self.badge(cell, min(BADGE_WIDTH, width - 8))
            case el.Code(text=text):
                code = self.scaled(self.styles.cell_code, factor)
                return Paragraph(self.text(text, mono=True), self.aligned(code, align))
        return Paragraph(self.text(cell), self.aligned(style, align))

    def badge(self, badge: el.Badge, width: float) -> Table:
        colours = verdict_colours(badge.verdict)
        # A long word (INCONCLUSIVE) in a narrow column shrinks rather than breaks.
        size = self.styles.badge.fontSize
        while size > 5.5 and stringWidth(badge.label, self.styles.badge.fontName, size) > width - 10:
            size -= 0.5
        style = ParagraphStyle("badge-" + badge.verdict, parent=self.styles.badge, textColor=colours.text,
                               fontSize=size, leading=max(size + 1.5, self.styles.badge.leading))
        pill = Table([[Paragraph(self.text(badge.label), style)]], colWidths=[width])
        pill.setStyle(
            TableStyle([
                ("BACKGROUND", (0, 0), (-1, -1), colours.fill),
                ("ROUNDEDCORNERS", [3, 3, 3, 3]),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("FONT", (0, 0), (-1, -1), self.fonts.bold, 7.5),
            ])
        )
        return pill

    def scaled(self, style: ParagraphStyle, factor: float) -> ParagraphStyle:
        if factor == 1.0:
            return style
        key = (style.name, f"x{factor}")
        if key not in self._aligned:
            self._aligned[key] = ParagraphStyle(f"{style.name}-x{factor}", parent=style,
                                                fontSize=style.fontSize * factor, leading=style.leading * factor)
        return self._aligned[key]

    def table(self, spec: el.Table) -> list[Flowable]:
        s = self.styles
        # Widths from the cells' longest words (table_layout.py): a word never breaks.
        widths, factor = table_widths(spec, table_fonts(s), TEXT_WIDTH)
        cell, header, key = (self.scaled(style, factor) for style in (s.cell, s.cell_header, s.cell_key))
        align = spec.align or (el.Align.LEFT,) * len(widths)
        data = []
        if spec.header:
            data.append([
                Paragraph(self.text(h), self.aligned(header, a)) for h, a in zip(spec.header, align)
            ])
        for row in spec.rows:
            data.append([
                self.cell(c, key if spec.key_value and i == 0 else cell, align[i], widths[i], factor)
                for i, c in enumerate(row)
            ])
        table = Table(data, colWidths=widths, repeatRows=1 if spec.header else 0, hAlign="LEFT")
        first_body = 1 if spec.header else 0
        commands: list[tuple] = [
            ("FONT", (0, 0), (-1, -1), self.fonts.sans, 8 * factor),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2 if spec.dense else 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2 if spec.dense else 3.2),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 5),
            ("LINEBELOW", (0, first_body), (-1, -1), 0.4, RULE),
        ]
        if spec.header:
            commands += [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ]
        else:
            commands.append(("LINEABOVE", (0, 0), (-1, 0), 0.4, RULE))
        if spec.key_value:
            commands.append(("BACKGROUND", (0, 0), (0, -1), KEY_FILL))
        table.setStyle(TableStyle(commands))
        flowables: list[Flowable] = [table]
        if spec.caption:
            flowables.append(Paragraph(self.text(spec.caption), s.caption))
        else:
            flowables.append(Spacer(1, 6))
        return flowables

    def alert(self, text: str) -> Table:
        box = Table([[Paragraph(self.text(text), self.styles.text[el.TextStyle.ALERT])]], colWidths=[TEXT_WIDTH])
        box.setStyle(
            TableStyle([
                ("FONT", (0, 0), (-1, -1), self.fonts.bold, 9.5),
                ("BACKGROUND", (0, 0), (-1, -1), ALERT_FILL),
                ("BOX", (0, 0), (-1, -1), 0.8, ALERT),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ])
        )
        return box

    def banner(self, banner: el.VerdictBanner) -> Table:
        s = self.styles
        colours = verdict_colours(banner.verdict)
        # Shrink long words (INCONCLUSIVE) to fit the box on one line rather than break them.
        box = 0.34 * TEXT_WIDTH - 36  # cell padding and a margin either side
        size = s.verdict_word.fontSize
        while size > 12 and stringWidth(banner.label, s.verdict_word.fontName, size) > box:
            size -= 1
        word = ParagraphStyle("verdict-word-" + banner.verdict, parent=s.verdict_word, textColor=colours.text,
                              fontSize=size, leading=size * 1.15)
        word_label = ParagraphStyle("verdict-word-label", parent=s.verdict_label, textColor=colours.text, alignment=1)
        table = Table(
            [[
                [Paragraph("OVERALL VERDICT", word_label), Paragraph(self.text(banner.label), word)],
                [Paragraph(self.text(banner.rationale), s.verdict_rationale)],
            ]],
            colWidths=[0.34 * TEXT_WIDTH, 0.66 * TEXT_WIDTH],
        )
        table.setStyle(
            TableStyle([
                ("FONT", (0, 0), (-1, -1), self.fonts.sans, 9),
                ("BACKGROUND", (0, 0), (0, 0), colours.fill),
                ("BACKGROUND", (1, 0), (1, 0), KEY_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 12),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 12),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
            ])
        )
        return table

    def code_lines(self, text: str) -> str:
        return wrap_code_lines(text, self.styles.code_block, self.fonts)
