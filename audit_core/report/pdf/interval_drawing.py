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

from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_core.report.sections.chart_geometry import Tick, interval_geometry, label_column

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


class RowPlot:
    """The frame forest plots and stacked bars share: a label column as wide as the longest
    label needs (at most `label_column`'s share), the plot to its right, vertical grid lines
    with their tick labels, and the x axis with its title."""

    def __init__(self, drawing: Drawing, labels: list[str], top: float, font: str) -> None:
        longest = max((stringWidth(label, font, LABEL_SIZE) for label in labels), default=0.0)
        self.drawing, self.font = drawing, font
        self.left = label_column(longest, drawing.width)
        self.plot_w = drawing.width - self.left - RIGHT
        self.plot_top = drawing.height - top
        self.plot_h = self.plot_top - BOTTOM

    def x(self, unit: float) -> float:
        return self.left + unit * self.plot_w

    def y(self, unit: float) -> float:
        return BOTTOM + unit * self.plot_h

    def grid(self, ticks: Sequence[Tick]) -> None:
        for tick in ticks:
            self.drawing.add(Line(self.x(tick.position), BOTTOM, self.x(tick.position), self.plot_top,
                                  strokeColor=GRID_MAJOR, strokeWidth=0.4))
            self.drawing.add(String(self.x(tick.position), BOTTOM - 10, tick.label, fontName=self.font,
                                    fontSize=7, fillColor=MUTED, textAnchor="middle"))

    def label(self, text: str, y: float) -> None:
        self.drawing.add(String(self.left - 5, y - 2.4, fit(text, self.font, LABEL_SIZE, self.left - 7),
                                fontName=self.font, fontSize=LABEL_SIZE, fillColor=INK, textAnchor="end"))

    def axis(self, title: str) -> None:
        self.drawing.add(Line(self.left, BOTTOM, self.left + self.plot_w, BOTTOM, strokeColor=MUTED,
                              strokeWidth=0.6))
        self.drawing.add(String(self.left + self.plot_w / 2, 3, title, fontName=self.font, fontSize=7,
                                fillColor=INK, textAnchor="middle"))


def empty_drawing(width: float, height: float, font: str, text: str) -> Drawing:
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    drawing.add(String(width / 2, height / 2, text, fontName=font, fontSize=7.5, fillColor=MUTED,
                       textAnchor="middle"))
    return drawing


def interval_drawing(chart: IntervalChart, width: float, font: str) -> Drawing:
    height = interval_height(chart)
    geometry = interval_geometry(chart)
    if geometry is None:
        return empty_drawing(width, height, font, "No estimate to draw")
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    plot = RowPlot(drawing, [r.label for r in chart.rows], TOP, font)
    x = plot.x
    plot.grid(geometry.ticks)
    if geometry.reference is not None:
        drawing.add(Line(x(geometry.reference), BOTTOM, x(geometry.reference), plot.plot_top, strokeColor=REFERENCE,
                         strokeWidth=0.9, strokeDashArray=[3, 2.5]))
    for row in geometry.rows:
        y = plot.y(row.y)
        colour = FLAGGED if row.flagged else POINT
        plot.label(row.label, y)
        if row.bar is not None:
            drawing.add(Line(x(row.bar[0]), y, x(row.bar[1]), y, strokeColor=colour, strokeWidth=1.1))
        for end in row.caps:
            drawing.add(Line(x(end), y - 2.2, x(end), y + 2.2, strokeColor=colour, strokeWidth=1.1))
        drawing.add(Rect(x(row.point) - 2.4, y - 2.4, 4.8, 4.8, fillColor=colour, strokeColor=colors.white,
                         strokeWidth=0.4))
    plot.axis(geometry.x_title)
    return drawing
