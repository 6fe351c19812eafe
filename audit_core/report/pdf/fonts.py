"""The report's fonts: TrueType files embedded in the PDF, never the standard 14.

A regulator's archive copy must render the same in ten years on any viewer, and PDF/A
(compliance.md 4) requires every font embedded. reportlab falls back to Helvetica, which
it does not embed, for anything not given a font, so every style, table and chart string
names one of these fonts, and the canvas starts on one too.

Sans: Bitstream Vera, shipped inside the reportlab package, so it is there wherever the
report can be written at all. Mono: DejaVu Sans Mono (Vera's licence), shipped beside
this module; failing that, the system's copy; failing that, Vera, so the report is still
written with embedded fonts, only not monospaced.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS = "MnemoSans"
SANS_BOLD = "MnemoSans-Bold"
SANS_ITALIC = "MnemoSans-Italic"
SANS_BOLD_ITALIC = "MnemoSans-BoldItalic"
MONO = "MnemoMono"

_REPORTLAB_FONTS = Path(reportlab.__file__).parent / "fonts"
_VERA = {
    SANS: "Vera.ttf",
    SANS_BOLD: "VeraBd.ttf",
    SANS_ITALIC: "VeraIt.ttf",
    SANS_BOLD_ITALIC: "VeraBI.ttf",
}
_MONO_CANDIDATES = (
    Path(__file__).parent / "fonts" / "DejaVuSansMono.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSansMono.ttf"),
)


@dataclass(frozen=True)
class FontSet:
    sans: str
    bold: str
    italic: str
    mono: str
    mono_is_monospaced: bool
    # Characters each font can draw. A character a font lacks prints as nothing at all,
    # which in a report is worse than an escape code, so the writer checks first.
    sans_chars: frozenset[int]
    mono_chars: frozenset[int]


@functools.cache
def register_fonts() -> FontSet:
    """Register the fonts with reportlab once per process and describe them."""
    for name, file in _VERA.items():
        pdfmetrics.registerFont(TTFont(name, str(_REPORTLAB_FONTS / file)))
    # <b> and <i> in paragraph markup resolve through the family mapping.
    for bold, italic, name in (
        (0, 0, SANS),
        (1, 0, SANS_BOLD),
        (0, 1, SANS_ITALIC),
        (1, 1, SANS_BOLD_ITALIC),
    ):
        addMapping(SANS, bold, italic, name)

    mono_file = next((p for p in _MONO_CANDIDATES if p.is_file()), None)
    mono = TTFont(MONO, str(mono_file or _REPORTLAB_FONTS / _VERA[SANS]))
    _repair_short_hmtx(mono, mono_file or _REPORTLAB_FONTS / _VERA[SANS])
    pdfmetrics.registerFont(mono)
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(MONO, bold, italic, MONO)
    return FontSet(
        sans=SANS,
        bold=SANS_BOLD,
        italic=SANS_ITALIC,
        mono=MONO,
        mono_is_monospaced=mono_file is not None,
        sans_chars=_chars(SANS),
        mono_chars=_chars(MONO),
    )


def _repair_short_hmtx(font: TTFont, path: Path) -> None:
    """reportlab (5.1) reads a font whose hmtx table lists fewer advances than glyphs (all
    monospaced fonts) with the shared advance already scaled to 1/1000 em, and writes that
    into the embedded subset: the font program then disagrees with the PDF's /Widths,
    which PDF/A forbids (ISO 19005-3 6.2.11.5). Viewers draw from /Widths, so only the
    program is wrong; reread the true advances with fontTools."""
    try:
        from fontTools.ttLib import TTFont as ToolsFont
    except ImportError:  # fontTools comes with pikepdf[pdfa]; without it, keep reportlab's
        return
    with ToolsFont(str(path), lazy=True) as tools:
        metrics, order = dict(tools["hmtx"].metrics), tools.getGlyphOrder()
    face = font.face
    if len(face.hmetrics) == len(order):
        face.hmetrics = [tuple(metrics[name]) for name in order]


def _chars(font_name: str) -> frozenset[int]:
    font = pdfmetrics.getFont(font_name)
    return frozenset(font.face.charToGlyph)
