"""Stacked outcome bars drawn with reportlab.graphics from a `StackedBarChart` spec (T5:
each cohort's sensitive signals split into a memory of one patient, a population pattern,
or below the threshold).

Where each segment and tick sits comes from `chart_geometry.stacked_bar_geometry`, which
the desktop app draws from too; this module scales it to points and colours each part by
its tone. Every string names its font (Helvetica is not embedded).
"""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_core.report.sections.chart_geometry import label_column, stacked_bar_geometry

from ..sections.elements import StackedBarChart
from .charts import GRID_MAJOR, INK, MUTED, SERIES_COLOURS
from .interval_drawing import FLAGGED, LABEL_SIZE, fit

ROW = 22.0  # one cohort's bar and the space around it, in points
BAR = 13.0
TOP, BOTTOM, RIGHT = 18.0, 28.0, 8.0  # TOP holds the legend
# The finding in the alert colour, a population pattern in the series blue, the signals too
# weak to examine in a light grey; each with the ink its count is printed in.
TONES = {"alert": (FLAGGED, colors.white), "main": (colors.HexColor(SERIES_COLOURS[0]), colors.white),
         "quiet": (colors.HexColor("#D5DBE1"), INK)}


def stacked_height(chart: StackedBarChart) -> float:
    return TOP + BOTTOM + ROW * max(1, len(chart.bars))


def stacked_drawing(chart: StackedBarChart, width: float, font: str) -> Drawing:
    height = stacked_height(chart)
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    geometry = stacked_bar_geometry(chart)
    if geometry is None:
        drawing.add(String(width / 2, height / 2, "No signal was examined", fontName=font, fontSize=7.5,
                           fillColor=MUTED, textAnchor="middle"))
        return drawing
    longest = max((stringWidth(r.label, font, LABEL_SIZE) for r in geometry.rows), default=0.0)
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
    for row in geometry.rows:
        y = BOTTOM + row.y * plot_h
        drawing.add(String(left - 5, y - 2.4, fit(row.label, font, LABEL_SIZE, left - 7), fontName=font,
                           fontSize=LABEL_SIZE, fillColor=INK, textAnchor="end"))
        for segment in row.segments:
            if segment.count <= 0:
                continue
            fill, ink = TONES.get(chart.tones[segment.part], TONES["main"])
            drawing.add(Rect(x(segment.x0), y - BAR / 2, x(segment.x1) - x(segment.x0), BAR, fillColor=fill,
                             strokeColor=colors.white, strokeWidth=0.6))
            if stringWidth(segment.label, font, 7) + 4 <= x(segment.x1) - x(segment.x0):
                drawing.add(String((x(segment.x0) + x(segment.x1)) / 2, y - 2.4, segment.label, fontName=font,
                                   fontSize=7, fillColor=ink, textAnchor="middle"))
    drawing.add(Line(left, BOTTOM, left + plot_w, BOTTOM, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(String(left + plot_w / 2, 3, geometry.x_title, fontName=font, fontSize=7, fillColor=INK,
                       textAnchor="middle"))
    legend_x = left
    for name, tone in zip(chart.parts, chart.tones):
        fill, _ = TONES.get(tone, TONES["main"])
        drawing.add(Rect(legend_x, height - 11, 10, 7, fillColor=fill, strokeColor=None))
        drawing.add(String(legend_x + 14, height - 10, name, fontName=font, fontSize=7, fillColor=INK))
        legend_x += 14 + stringWidth(name, font, 7) + 14
    return drawing
