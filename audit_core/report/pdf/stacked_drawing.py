"""Stacked outcome bars drawn with reportlab.graphics from a `StackedBarChart` spec (T5:
each cohort's sensitive signals split into a memory of one patient, a population pattern,
or below the threshold).

Where each segment and tick sits comes from `chart_geometry.stacked_bar_geometry`, which
the desktop app draws from too; this module scales it to points and colours each part by
its tone. Every string names its font (Helvetica is not embedded).
"""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_core.report.sections.chart_geometry import stacked_bar_geometry

from ..sections.elements import StackedBarChart
from .charts import INK, SERIES_COLOURS
from .interval_drawing import BOTTOM, FLAGGED, RowPlot, empty_drawing

ROW = 22.0  # one cohort's bar and the space around it, in points
BAR = 13.0
TOP = 18.0  # holds the legend; the bottom and right margins are RowPlot's
# The finding in the alert colour, a population pattern in the series blue, the signals too
# weak to examine in a light grey; each with the ink its count is printed in.
TONES = {"alert": (FLAGGED, colors.white), "main": (colors.HexColor(SERIES_COLOURS[0]), colors.white),
         "quiet": (colors.HexColor("#D5DBE1"), INK)}


def stacked_height(chart: StackedBarChart) -> float:
    return TOP + BOTTOM + ROW * max(1, len(chart.bars))


def stacked_drawing(chart: StackedBarChart, width: float, font: str) -> Drawing:
    height = stacked_height(chart)
    geometry = stacked_bar_geometry(chart)
    if geometry is None:
        return empty_drawing(width, height, font, "No signal was examined")
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    plot = RowPlot(drawing, [r.label for r in geometry.rows], TOP, font)
    x = plot.x
    plot.grid(geometry.ticks)
    for row in geometry.rows:
        y = plot.y(row.y)
        plot.label(row.label, y)
        for segment in row.segments:
            if segment.count <= 0:
                continue
            fill, ink = TONES.get(chart.tones[segment.part], TONES["main"])
            drawing.add(Rect(x(segment.x0), y - BAR / 2, x(segment.x1) - x(segment.x0), BAR, fillColor=fill,
                             strokeColor=colors.white, strokeWidth=0.6))
            if stringWidth(segment.label, font, 7) + 4 <= x(segment.x1) - x(segment.x0):
                drawing.add(String((x(segment.x0) + x(segment.x1)) / 2, y - 2.4, segment.label, fontName=font,
                                   fontSize=7, fillColor=ink, textAnchor="middle"))
    plot.axis(geometry.x_title)
    legend_x = plot.left
    for name, tone in zip(chart.parts, chart.tones):
        fill, _ = TONES.get(tone, TONES["main"])
        drawing.add(Rect(legend_x, height - 11, 10, 7, fillColor=fill, strokeColor=None))
        drawing.add(String(legend_x + 14, height - 10, name, fontName=font, fontSize=7, fillColor=INK))
        legend_x += 14 + stringWidth(name, font, 7) + 14
    return drawing
