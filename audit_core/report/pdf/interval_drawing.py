"""Forest plots drawn with reportlab.graphics from an `IntervalChart` spec: one row per
estimate, its 95% interval as a bar, and a dashed reference line (0 for a gap between
members and non-members, the whole cohort for a subgroup).

A table of twenty intervals makes a reader compare numbers in their head; the same
intervals drawn against the line show at once which clear it and which do not. Every
string names its font (a string left without one would be Helvetica, not embedded).
"""

from __future__ import annotations

import math

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..sections.elements import IntervalChart
from .charts import GRID_MAJOR, INK, MUTED, SERIES_COLOURS

ROW = 12.0  # height of one estimate, in points
TOP, BOTTOM, RIGHT = 6.0, 28.0, 8.0
LABEL_SIZE = 6.8
POINT = colors.HexColor(SERIES_COLOURS[0])
FLAGGED = colors.HexColor("#C62828")
REFERENCE = colors.HexColor("#8A94A0")


def interval_height(chart: IntervalChart) -> float:
    return TOP + BOTTOM + ROW * max(1, len(chart.rows))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values spanning [low, high], about `count` of them."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks: list[float] = []
    value = first
    while not ticks or ticks[-1] < high - 1e-12:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value: float, ticks: list[float]) -> str:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = 0  # as few as show every tick exactly: 0.25 needs two, 0.2 one
    while decimals < 6 and abs(round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6:
        decimals += 1
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "−")


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def interval_drawing(chart: IntervalChart, width: float, font: str) -> Drawing:
    height = interval_height(chart)
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    values = [v for row in chart.rows for v in (row.value, row.low, row.high) if v is not None]
    if chart.reference is not None:
        values.append(chart.reference)
    if not values:
        drawing.add(String(width / 2, height / 2, "No estimate to draw", fontName=font, fontSize=7.5,
                           fillColor=MUTED, textAnchor="middle"))
        return drawing
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    longest = max((stringWidth(r.label, font, LABEL_SIZE) for r in chart.rows), default=0.0)
    left = min(0.45 * width, longest + 8)
    plot_w = width - left - RIGHT
    plot_top = height - TOP

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    for tick in ticks:
        drawing.add(Line(x(tick), BOTTOM, x(tick), plot_top, strokeColor=GRID_MAJOR, strokeWidth=0.4))
        drawing.add(String(x(tick), BOTTOM - 10, _tick_label(tick, ticks), fontName=font, fontSize=7,
                           fillColor=MUTED, textAnchor="middle"))
    if chart.reference is not None:
        drawing.add(Line(x(chart.reference), BOTTOM, x(chart.reference), plot_top, strokeColor=REFERENCE,
                         strokeWidth=0.9, strokeDashArray=[3, 2.5]))
    for index, row in enumerate(chart.rows):
        y = plot_top - ROW * (index + 0.5)
        colour = FLAGGED if row.flagged else POINT
        drawing.add(String(left - 5, y - 2.4, _fit(row.label, font, LABEL_SIZE, left - 7), fontName=font,
                           fontSize=LABEL_SIZE, fillColor=INK, textAnchor="end"))
        # A one-sided bound (no upper end) is drawn from the bound to the estimate.
        ends = [e for e in (row.low, row.high) if e is not None]
        if ends:
            start, stop = (ends[0], ends[1]) if len(ends) == 2 else (ends[0], row.value)
            drawing.add(Line(x(start), y, x(stop), y, strokeColor=colour, strokeWidth=1.1))
            for end in ends:
                drawing.add(Line(x(end), y - 2.2, x(end), y + 2.2, strokeColor=colour, strokeWidth=1.1))
        drawing.add(Rect(x(row.value) - 2.4, y - 2.4, 4.8, 4.8, fillColor=colour, strokeColor=colors.white,
                         strokeWidth=0.4))
    drawing.add(Line(left, BOTTOM, left + plot_w, BOTTOM, strokeColor=MUTED, strokeWidth=0.6))
    label = chart.x_label + (f" (dashed: {chart.reference_label})" if chart.reference_label else "")
    drawing.add(String(left + plot_w / 2, 3, label, fontName=font, fontSize=7, fillColor=INK,
                       textAnchor="middle"))
    return drawing
