"""How the report looks: page geometry, colours and paragraph styles.

Every style names its font explicitly (see fonts.py: a style left on reportlab's default
would print in Helvetica, which is not embedded). Verdicts are always a word as well as a
colour, so the report reads the same printed in greyscale or by a colour-blind reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from ..sections.elements import Align, TextStyle
from .fonts import FontSet

PAGE = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 22 * mm  # room for the footer
TEXT_WIDTH = PAGE[0] - 2 * MARGIN_X

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#5F6B7A")
ACCENT = colors.HexColor("#0B3C66")
RULE = colors.HexColor("#C9D1DA")
HEADER_FILL = colors.HexColor("#E8EDF2")
KEY_FILL = colors.HexColor("#F4F6F8")
ALERT = colors.HexColor("#B71C1C")
ALERT_FILL = colors.HexColor("#FDECEA")


@dataclass(frozen=True)
class VerdictColours:
    fill: colors.Color
    text: colors.Color


_WHITE = colors.white
VERDICT_COLOURS = {
    "pass": VerdictColours(colors.HexColor("#2E7D32"), _WHITE),
    # Amber is too light for white text; dark text keeps the contrast.
    "warn": VerdictColours(colors.HexColor("#F2A900"), INK),
    "fail": VerdictColours(colors.HexColor("#C62828"), _WHITE),
    "inconclusive": VerdictColours(colors.HexColor("#6B7280"), _WHITE),
    "error": VerdictColours(colors.HexColor("#37474F"), _WHITE),
}
UNKNOWN_VERDICT = VerdictColours(colors.HexColor("#9E9E9E"), _WHITE)


def verdict_colours(verdict: str) -> VerdictColours:
    return VERDICT_COLOURS.get(verdict, UNKNOWN_VERDICT)


ALIGNMENTS = {Align.LEFT: TA_LEFT, Align.RIGHT: TA_RIGHT, Align.CENTER: TA_CENTER}


@dataclass(frozen=True)
class Styles:
    text: dict[TextStyle, ParagraphStyle]
    section: ParagraphStyle
    heading2: ParagraphStyle
    heading3: ParagraphStyle
    cell: ParagraphStyle
    cell_header: ParagraphStyle
    cell_key: ParagraphStyle
    cell_code: ParagraphStyle
    badge: ParagraphStyle
    bullet: ParagraphStyle
    caption: ParagraphStyle
    chart_title: ParagraphStyle
    code_block: ParagraphStyle
    verdict_word: ParagraphStyle
    verdict_label: ParagraphStyle
    verdict_rationale: ParagraphStyle


def make_styles(fonts: FontSet) -> Styles:
    def style(name: str, **kw) -> ParagraphStyle:
        kw.setdefault("fontName", fonts.sans)
        kw.setdefault("fontSize", 9)
        kw.setdefault("leading", kw["fontSize"] * 1.3)
        kw.setdefault("textColor", INK)
        return ParagraphStyle(name, **kw)

    body = style("body", spaceAfter=5)
    text = {
        TextStyle.TITLE: style("title", fontName=fonts.bold, fontSize=21, leading=26, textColor=ACCENT, spaceAfter=10),
        TextStyle.KICKER: style("kicker", fontSize=8, textColor=MUTED, spaceAfter=4),
        TextStyle.BODY: body,
        TextStyle.LEAD: style("lead", fontName=fonts.italic, fontSize=10.5, leading=14, spaceAfter=5),
        TextStyle.SMALL: style("small", fontSize=8, spaceAfter=4),
        TextStyle.NOTE: style("note", fontSize=7.5, textColor=MUTED, spaceAfter=4),
        # Drawn inside a boxed table by the writer: a paragraph's own border would stick
        # out past the margins by its padding.
        TextStyle.ALERT: style("alert", fontName=fonts.bold, fontSize=9.5, leading=13, textColor=ALERT),
        TextStyle.DISCLAIMER: style("disclaimer", fontSize=7.5, textColor=MUTED, spaceBefore=4, spaceAfter=0),
    }
    return Styles(
        text=text,
        section=style("section", fontName=fonts.bold, fontSize=16, leading=20, textColor=ACCENT, spaceAfter=6, keepWithNext=1),
        # No keepWithNext: the writer puts a conditional page break before each heading.
        heading2=style("heading2", fontName=fonts.bold, fontSize=12, leading=15, textColor=ACCENT, spaceBefore=10, spaceAfter=5),
        heading3=style("heading3", fontName=fonts.bold, fontSize=9.5, leading=12, spaceBefore=9, spaceAfter=4),
        cell=style("cell", fontSize=8, leading=10),
        cell_header=style("cell_header", fontName=fonts.bold, fontSize=7.5, leading=9.5, textColor=MUTED),
        cell_key=style("cell_key", fontName=fonts.bold, fontSize=8, leading=10, textColor=MUTED),
        # 6.5 pt fits a whole SHA-256 on one line in elements.HASH_WIDTH of the text width.
        cell_code=style("cell_code", fontName=fonts.mono, fontSize=6.5, leading=9),
        badge=style("badge", fontName=fonts.bold, fontSize=7.5, leading=9, alignment=TA_CENTER),
        bullet=style("bullet", leftIndent=12, bulletIndent=2, spaceAfter=3, bulletFontName=fonts.sans),
        caption=style("caption", fontName=fonts.italic, fontSize=7.5, leading=9.5, textColor=MUTED, spaceBefore=3, spaceAfter=6),
        chart_title=style("chart_title", fontName=fonts.bold, fontSize=9, leading=12, spaceAfter=2),
        code_block=style("code_block", fontName=fonts.mono, fontSize=7, leading=8.8, textColor=INK, leftIndent=6),
        verdict_word=style("verdict_word", fontName=fonts.bold, fontSize=26, leading=30, alignment=TA_CENTER),
        verdict_label=style("verdict_label", fontSize=8, textColor=MUTED, spaceAfter=2),
        verdict_rationale=style("verdict_rationale", fontSize=10.5, leading=14),
    )
