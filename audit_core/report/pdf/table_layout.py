"""Column widths from what the cells hold, so that no word breaks inside a cell.

reportlab wraps a cell only at spaces and, when a single word is wider than its column,
cuts the word wherever it runs out of room: "nothin g", "Distanc e", "(0.2 / 4–0.89)" in
the first reports. A section builder gives each table's widths as fractions of the page
(elements.Table); those are a preference. Here every column gets at least the width of
its longest unbreakable token (a word, a number with its interval bounds, a plan key),
taken from columns that have room to spare, first from space a column does not need
for its longest line, then from space it only needs to avoid wrapping. When even the
tokens do not fit side by side, the writer sets the table in a smaller type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from ..sections import elements as el
from .styles import Styles

# LEFTPADDING + RIGHTPADDING of a table cell (writer.py sets 5 + 5), and a point more: a
# word exactly as wide as its line is still pushed to the next by rounding.
CELL_PADDING = 11.0
# A badge is a small table inside its cell, with its own padding around the word.
BADGE_PADDING = 20.0
# Type sizes tried in turn, as a factor of the normal size, when the tokens do not fit.
SHRINK_STEPS = (1.0, 0.94, 0.88, 0.82)
# A dense table (reference material in the appendix) starts a step smaller.
DENSE_SCALE = 0.9


@dataclass(frozen=True)
class CellFont:
    name: str
    size: float


@dataclass(frozen=True)
class TableFonts:
    """The fonts a table's cells are set in (from the writer's styles)."""

    header: CellFont
    body: CellFont
    key: CellFont  # the first column of a key-value table
    code: CellFont
    badge: CellFont

    def scaled(self, factor: float) -> TableFonts:
        def scale(font: CellFont) -> CellFont:
            return CellFont(font.name, font.size * factor)

        return TableFonts(scale(self.header), scale(self.body), scale(self.key), scale(self.code),
                          scale(self.badge))


@dataclass(frozen=True)
class Extent:
    """The narrowest a cell can be without breaking a word, and the width that holds its
    longest line unwrapped (both without padding)."""

    least: float
    natural: float


def tokens(text: str) -> list[str]:
    """The pieces reportlab never breaks between: runs of text between spaces."""
    return str(text).split()


def text_extent(text: str, font: CellFont, mono: str | None = None) -> Extent:
    """With `mono`, `a plan key` between backticks is measured in that font, as the writer
    sets it (writer.py: backticks in running text)."""
    text = str(text)
    pieces = text.split("`") if mono and text.count("`") >= 2 and text.count("`") % 2 == 0 else [text]
    least, lines, line = 0.0, [], 0.0
    for index, piece in enumerate(pieces):
        name = mono if index % 2 else font.name
        for number, part in enumerate(piece.split("\n")):
            if number:
                lines.append(line)
                line = 0.0
            for word in part.split():
                width = stringWidth(word, name, font.size)
                least = max(least, width)
                line += width + stringWidth(" ", font.name, font.size)
    lines.append(line)
    return Extent(least, max(least, max(lines)))


def cell_extent(cell: el.Cell, font: CellFont, fonts: TableFonts) -> Extent:
    match cell:
        case el.Badge(label=label):
            width = stringWidth(label, fonts.badge.name, fonts.badge.size) + BADGE_PADDING
            return Extent(width, width)
        case el.Code(text=text):
            return text_extent(text, fonts.code)
    return text_extent(str(cell), font, mono=fonts.code.name)


def column_extents(spec: el.Table, fonts: TableFonts) -> list[Extent]:
    n = len(spec.widths)
    least, natural = [0.0] * n, [0.0] * n
    rows: list[tuple[tuple[el.Cell, ...], Callable[[int], CellFont]]] = []
    if spec.header:
        rows.append((spec.header, lambda _: fonts.header))
    body = (lambda i: fonts.key if i == 0 else fonts.body) if spec.key_value else (lambda _: fonts.body)
    rows += [(row, body) for row in spec.rows]
    for number, (row, font_of) in enumerate(rows):
        for i, cell in enumerate(row):
            extent = cell_extent(cell, font_of(i), fonts)
            least[i] = max(least[i], extent.least)
            # A header may wrap onto several lines; only the body claims room for its lines.
            if number or not spec.header:
                natural[i] = max(natural[i], extent.natural)
    return [Extent(a + CELL_PADDING, max(a, b) + CELL_PADDING) for a, b in zip(least, natural)]


def fit_widths(preferred: Sequence[float], extents: Sequence[Extent], total: float,
               balance: bool = True) -> list[float] | None:
    """Widths summing to `total`, as close to `preferred` as the cells allow, with every
    column at least as wide as its widest token; None when the tokens alone overflow.
    With `balance`, space a column does not need for its longest line first goes to the
    columns that would wrap (a key-value table keeps its key column as set, so that all
    of them line up)."""
    if sum(e.least for e in extents) > total + 1e-6:
        return None
    widths = list(preferred)
    if balance:
        spare = [max(0.0, w - e.natural) for w, e in zip(widths, extents)]
        need = [max(0.0, e.natural - w) for w, e in zip(widths, extents)]
        move = min(sum(spare), sum(need))
        if move > 0:
            widths = [w - s * move / sum(spare) + n * move / sum(need) for w, s, n in zip(widths, spare, need)]
    widths = [max(w, e.least) for w, e in zip(widths, extents)]
    excess = sum(widths) - total
    for floor in ([e.natural for e in extents], [e.least for e in extents]):
        if excess <= 1e-6:
            break
        slack = [max(0.0, w - f) for w, f in zip(widths, floor)]
        available = sum(slack)
        if available <= 0:
            continue
        take = min(excess, available)
        widths = [w - s * take / available for w, s in zip(widths, slack)]
        excess -= take
    return widths


def table_widths(spec: el.Table, fonts: TableFonts, total: float) -> tuple[list[float], float]:
    """(column widths in points, type scale) for `spec`: the first scale of SHRINK_STEPS
    at which every token fits; at the smallest, widths in proportion to the tokens."""
    preferred = [w * total for w in spec.widths]
    extents: list[Extent] = []
    base = DENSE_SCALE if spec.dense else 1.0
    for step in SHRINK_STEPS:
        factor = base * step
        extents = column_extents(spec, fonts.scaled(factor))
        widths = fit_widths(preferred, extents, total, balance=not spec.key_value)
        if widths is not None:
            return widths, factor
    # Nothing fits: a word must break somewhere. Share the page in proportion to need.
    need = sum(e.least for e in extents)
    return [total * e.least / need for e in extents], base * SHRINK_STEPS[-1]


def table_fonts(styles: Styles) -> TableFonts:
    """The fonts of a table's cells, for sizing its columns (table_layout.py)."""
    return TableFonts(
        header=CellFont(styles.cell_header.fontName, styles.cell_header.fontSize),
        body=CellFont(styles.cell.fontName, styles.cell.fontSize),
        key=CellFont(styles.cell_key.fontName, styles.cell_key.fontSize),
        code=CellFont(styles.cell_code.fontName, styles.cell_code.fontSize),
        badge=CellFont(styles.badge.fontName, 7.0),  # a badge may shrink its word a little
    )
