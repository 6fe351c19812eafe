"""Wrapping monospace text (the plan as JSON) to the text width: platypus's Preformatted
never wraps by itself, and a long line would run off the page."""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Preformatted

from .fonts import FontSet
from .styles import TEXT_WIDTH


def wrap_code_lines(text: str, style: ParagraphStyle, fonts: FontSet) -> str:
    """Wraps each line to the text width (Preformatted never wraps by itself) and
    escapes characters the monospace font cannot draw as JSON does: \\uXXXX."""
    available = TEXT_WIDTH - style.leftIndent - 2
    lines = []
    for line in text.splitlines():
        line = "".join(c if ord(c) in fonts.mono_chars else f"\\u{ord(c):04x}" for c in line)
        # Continuations sit deeper than their line; capped so a continuation always
        # has room for text and the loop always advances.
        indent = min(len(line) - len(line.lstrip(" ")) + 4, 40)
        while stringWidth(line, style.fontName, style.fontSize) > available:
            cut = _fitting_prefix(line, style.fontName, style.fontSize, available, indent)
            lines.append(line[:cut])
            line = " " * indent + line[cut:]
        lines.append(line)
    return "\n".join(lines)


def _fitting_prefix(line: str, font: str, size: float, width: float, indent: int) -> int:
    low, high = 1, len(line)
    while low < high:  # the longest prefix that fits, at least one character
        middle = (low + high + 1) // 2
        if stringWidth(line[:middle], font, size) <= width:
            low = middle
        else:
            high = middle - 1
    # Prefer breaking after a space or comma when one is in the last third of the line.
    for position in range(low, max(indent + 1, low * 2 // 3), -1):
        if line[position - 1] in " ,":
            return position
    return low


class Listing(Preformatted):
    """Monospace lines that split across pages leaving at least a few lines on each side:
    a plan whose closing brace alone fills the last page reads as a page left blank."""

    MIN_LINES = 6

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        leading = self.style.leading
        fit = int(availHeight / leading)
        if fit < self.MIN_LINES:
            return []  # start on the next page instead
        total = len(self.lines)
        if total - fit < self.MIN_LINES:
            fit = total - self.MIN_LINES
            if fit < self.MIN_LINES:
                return []
        head, tail = super().split(availWidth, fit * leading + 0.01)
        return [Listing("\n".join(head.lines), self.style), Listing("\n".join(tail.lines), tail.style)]
