"""Forest plots drawn with reportlab.graphics from an `IntervalChart` spec: one row per
estimate, its 95% interval as a bar, and a dashed reference line (0 for a gap between
members and non-members, the whole cohort for a subgroup).

A table of twenty intervals makes a reader compare numbers in their head; the same
intervals drawn against the line show at once which clear it and which do not. Where
every tick, bar and point sits comes from `chart_geometry.interval_geometry`, which the
desktop app draws from too; this module scales it to points. Every string names its font
(a string left without one would be Helvetica, not embedded).
"""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_core.report.sections.chart_geometry import interval_geometry, label_column

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


def fit(text: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis where it would run past `width`."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def interval_drawing(chart: IntervalChart, width: float, font: str) -> Drawing:
    height = interval_height(chart)
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    geometry = interval_geometry(chart)
    if geometry is None:
        drawing.add(String(width / 2, height / 2, "No estimate to draw", fontName=font, fontSize=7.5,
                           fillColor=MUTED, textAnchor="middle"))
        return drawing
    longest = max((stringWidth(r.label, font, LABEL_SIZE) for r in chart.rows), default=0.0)
    left = label_column(longest, width)
    plot_w = width - left - RIGHT
    plot_top = height - TOP
    plot_h = plot_top - BOTTOM

    def x(unit: float) -> float:
        return left + unit * plot_w

    for tick in geometry.ticks:
        drawing.add(Line(x(tick.position), BOTTOM, x(tick.position), plot_top, strokeColor=GRID_MAJOR,
                         strokeWidth=0.4))
        drawing.add(String(x(tick.position), BOTTOM - 10, tick.label, fontName=font, fontSize=7,
                           fillColor=MUTED, textAnchor="middle"))
    if geometry.reference is not None:
        drawing.add(Line(x(geometry.reference), BOTTOM, x(geometry.reference), plot_top, strokeColor=REFERENCE,
                         strokeWidth=0.9, strokeDashArray=[3, 2.5]))
    for row in geometry.rows:
        y = BOTTOM + row.y * plot_h
        colour = FLAGGED if row.flagged else POINT
        drawing.add(String(left - 5, y - 2.4, fit(row.label, font, LABEL_SIZE, left - 7), fontName=font,
                           fontSize=LABEL_SIZE, fillColor=INK, textAnchor="end"))
        if row.bar is not None:
            drawing.add(Line(x(row.bar[0]), y, x(row.bar[1]), y, strokeColor=colour, strokeWidth=1.1))
        for end in row.caps:
            drawing.add(Line(x(end), y - 2.2, x(end), y + 2.2, strokeColor=colour, strokeWidth=1.1))
        drawing.add(Rect(x(row.point) - 2.4, y - 2.4, 4.8, 4.8, fillColor=colour, strokeColor=colors.white,
                         strokeWidth=0.4))
    drawing.add(Line(left, BOTTOM, left + plot_w, BOTTOM, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(String(left + plot_w / 2, 3, geometry.x_title, fontName=font, fontSize=7, fillColor=INK,
                       textAnchor="middle"))
    return drawing
